import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readEnv, type EnvVar } from '../env.js';
import { UsageError } from '../errors.js';

/** Every flag `mcp-streamablehttp-client` accepts. */
export const CLI_OPTIONS = {
  url: { type: 'string' },
  'server-url': { type: 'string' },
  oauth2: { type: 'boolean' },
  token: { type: 'string' },
  header: { type: 'string', multiple: true, short: 'H' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-metadata-url': { type: 'string' },
  grant: { type: 'string' },
  'private-key': { type: 'string' },
  'private-key-alg': { type: 'string' },
  'client-credentials-file': { type: 'string' },
  'idp-token-endpoint': { type: 'string' },
  'idp-client-id': { type: 'string' },
  'idp-client-secret': { type: 'string' },
  'idp-id-token': { type: 'string' },
  'workload-token': { type: 'string' },
  dpop: { type: 'boolean' },
  'no-dpop': { type: 'boolean' },
  scope: { type: 'string' },
  'callback-port': { type: 'string' },
  'no-browser': { type: 'boolean' },
  'auth-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  json: { type: 'boolean' },
  args: { type: 'string' },
  origin: { type: 'string' },
  'log-level': { type: 'string' },
  protocol: { type: 'string' },
  // Compatible with the Python original.
  'list-tools': { type: 'boolean' },
  'list-resources': { type: 'boolean' },
  'list-prompts': { type: 'boolean' },
  command: { type: 'string', short: 'c' },
  raw: { type: 'string' },
  'test-auth': { type: 'boolean' },
  'reset-auth': { type: 'boolean' },
  'get-client-info': { type: 'boolean' },
  'update-client': { type: 'string' },
  'delete-client': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

/**
 * The environment variable of every setting flag: `MCP_CLIENT_<name>`. A flag
 * wins over its variable. `MCP_SERVER_URL` (the Python original's name) stays
 * a documented alias of `MCP_CLIENT_URL`. Action flags (`--list-tools`, `-c`,
 * …) and `--args` have none.
 */
export const CLI_ENV = {
  url: { name: 'URL', fallback: 'MCP_SERVER_URL' },
  oauth2: { name: 'OAUTH2' },
  token: { name: 'TOKEN' },
  header: { name: 'HEADERS' },
  'client-id': { name: 'CLIENT_ID' },
  'client-secret': { name: 'CLIENT_SECRET' },
  'client-metadata-url': { name: 'CLIENT_METADATA_URL' },
  grant: { name: 'GRANT' },
  'private-key': { name: 'PRIVATE_KEY' },
  'private-key-alg': { name: 'PRIVATE_KEY_ALG' },
  'client-credentials-file': { name: 'CREDENTIALS_FILE' },
  'idp-token-endpoint': { name: 'IDP_TOKEN_ENDPOINT' },
  'idp-client-id': { name: 'IDP_CLIENT_ID' },
  'idp-client-secret': { name: 'IDP_CLIENT_SECRET' },
  'idp-id-token': { name: 'IDP_ID_TOKEN' },
  'workload-token': { name: 'WORKLOAD_TOKEN' },
  dpop: { name: 'DPOP' },
  'no-dpop': { name: 'NO_DPOP' },
  scope: { name: 'SCOPE' },
  'callback-port': { name: 'CALLBACK_PORT' },
  'no-browser': { name: 'NO_BROWSER' },
  'auth-timeout': { name: 'AUTH_TIMEOUT' },
  'request-timeout': { name: 'REQUEST_TIMEOUT' },
  json: { name: 'JSON' },
  origin: { name: 'ORIGIN' },
  'log-level': { name: 'LOG_LEVEL' },
  protocol: { name: 'PROTOCOL' },
} as const satisfies Partial<Record<keyof typeof CLI_OPTIONS, EnvVar>>;

/** Every command (first positional word) `mcp-streamablehttp-client` runs; none is bridge mode. */
export const COMMANDS = [
  'login',
  'status',
  'logout',
  'client',
  'tools',
  'resources',
  'prompts',
  'raw',
  'doctor',
] as const;

/** Parsed flag values. */
export type CliFlags = ReturnType<typeof parseCli>['flags'];

/** Parses argv with node:util `parseArgs` (strict: unknown flags are usage errors). */
export function parseCli(argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: CLI_OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { flags: values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Fills every flag the command line left unset from its `MCP_CLIENT_`
 * variable. `--url` is left to the caller (a `doctor URL` word beats the
 * environment). Booleans take `1`, `true`, `yes` or `on`; `MCP_CLIENT_HEADERS`
 * holds one `Name: value` per line.
 */
export function withEnv(flags: CliFlags, env: NodeJS.ProcessEnv): CliFlags {
  const out: Record<string, unknown> = { ...flags };
  for (const [flag, v] of Object.entries(CLI_ENV)) {
    if (flag === 'url' || out[flag] !== undefined) continue;
    const raw = readEnv(env, v);
    if (raw === undefined) continue;
    const spec = CLI_OPTIONS[flag as keyof typeof CLI_ENV];
    out[flag] =
      spec.type === 'boolean'
        ? /^(1|true|yes|on)$/i.test(raw.trim())
        : 'multiple' in spec
          ? raw
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean)
          : raw;
  }
  return out;
}

/** `--help` text. */
export const HELP = `mcp-streamablehttp-client: use a remote (OAuth-protected) MCP Streamable HTTP server from stdio.

Usage:
  mcp-streamablehttp-client --url URL [auth flags]            bridge stdin/stdout JSON-RPC to URL (default)
  mcp-streamablehttp-client login|status|logout --url URL
  mcp-streamablehttp-client client info|delete --url URL
  mcp-streamablehttp-client client update key=value... --url URL
  mcp-streamablehttp-client tools list --url URL
  mcp-streamablehttp-client tools call NAME [--args JSON] [key=value...] --url URL
  mcp-streamablehttp-client resources list|read URI --url URL
  mcp-streamablehttp-client prompts list|get NAME [key=value...] --url URL
  mcp-streamablehttp-client raw '<json-rpc>' --url URL
  mcp-streamablehttp-client doctor --url URL [--origin O]    (or: doctor URL); CORS checked for origin O

Connection and auth (environment variable in brackets; a flag wins over it):
  --url URL                 MCP endpoint, also --server-url [MCP_CLIENT_URL, or MCP_SERVER_URL]
  --oauth2                  OAuth 2.1: discover, register, log in in the browser, refresh [MCP_CLIENT_OAUTH2=1]
  --token T                 send "Authorization: Bearer T" [MCP_CLIENT_TOKEN]
  -H, --header 'K: V'       extra header, repeatable; \${ENV} is expanded [MCP_CLIENT_HEADERS, one per line]
  --client-id ID            use a pre-registered client [MCP_CLIENT_CLIENT_ID]
  --client-secret S         its secret, for a confidential client [MCP_CLIENT_CLIENT_SECRET]
  --client-metadata-url U   Client ID Metadata Document URL (when the server supports it) [MCP_CLIENT_CLIENT_METADATA_URL]
  --grant G                 authorization-code (default), client-credentials, id-jag [MCP_CLIENT_GRANT]
                            (the last two: no browser, a pre-registered client); jwt-bearer: see
                            --workload-token
  --private-key FILE        PEM or JWK key: authenticate with private_key_jwt [MCP_CLIENT_PRIVATE_KEY]
  --private-key-alg ALG     its JWS algorithm (default: from the key and the server) [MCP_CLIENT_PRIVATE_KEY_ALG]
  --client-credentials-file FILE  JSON credentials (flags win) [MCP_CLIENT_CREDENTIALS_FILE]: client_id,
                            client_secret, private_key_pem, private_key_jwk, signing_algorithm,
                            idp_token_endpoint, idp_client_id, idp_client_secret, idp_id_token
  --idp-token-endpoint URL  id-jag: the enterprise IdP's token endpoint (RFC 8693) [MCP_CLIENT_IDP_TOKEN_ENDPOINT]
  --idp-client-id ID        id-jag: this client's id at the IdP [MCP_CLIENT_IDP_CLIENT_ID]
  --idp-client-secret S     id-jag: its secret there [MCP_CLIENT_IDP_CLIENT_SECRET]
  --idp-id-token T          id-jag: the user's ID token at the IdP [MCP_CLIENT_IDP_ID_TOKEN]
  --workload-token FILE     workload identity: JWT-bearer grant (RFC 7523) [MCP_CLIENT_WORKLOAD_TOKEN]
                            with the platform's JWT, re-read on every token request; no browser
                            (--client-id too if the server needs one)
  --dpop                    DPoP (RFC 9449) even where not advertised [MCP_CLIENT_DPOP=1]
                            (default: bind tokens to a key of this client where the server advertises it)
  --no-dpop                 never use DPoP: Bearer tokens [MCP_CLIENT_NO_DPOP=1]
  --scope "a b"             scopes to ask for (default: from the server) [MCP_CLIENT_SCOPE]
  --callback-port N         loopback callback port (default: the registered one, else free) [MCP_CLIENT_CALLBACK_PORT]
  --no-browser              print the sign-in URL, do not open a browser [MCP_CLIENT_NO_BROWSER=1]
  --auth-timeout SECONDS    how long to wait for the browser (default 300) [MCP_CLIENT_AUTH_TIMEOUT]
  --request-timeout SECONDS deadline for each response's headers (default 60) [MCP_CLIENT_REQUEST_TIMEOUT]
                            bridge and one-shot commands (exit 4 when missed); the bridge's startup
                            probe: 15 at most; streamed answers are not cut (2025 one-shot: they are)
  --origin O                doctor: the browser origin whose CORS is checked [MCP_CLIENT_ORIGIN]
  --protocol P              auto (default: probe with server/discover), 2026-07-28 or 2025-11-25 [MCP_CLIENT_PROTOCOL]

Tool arguments:
  --args JSON               tools call: arguments as a JSON object (key=value pairs merge over it)

Output:
  --json                    machine-readable output on stdout (errors too) [MCP_CLIENT_JSON=1]
  --log-level LEVEL         debug|info|warn|error|silent (stderr; default warn) [MCP_CLIENT_LOG_LEVEL]

Compatible with the Python original:
  --list-tools              same as tools list (also --list-resources, --list-prompts)
  -c, --command "tool args" same as tools call (args: JSON object, key=value pairs, or one value)
  --raw '<json-rpc>'        same as raw
  --test-auth               check that authentication works
  --reset-auth              same as logout
  --get-client-info         same as client info
  --update-client "k=v,k=v" same as client update
  --delete-client           same as client delete

Other:
  -h, --help                this text
  -v, --version             print the version

Exit codes: 0 ok, 1 server failure, 2 usage, 3 auth failure, 4 server unreachable or request deadline missed.
Credentials: $MCP_CLIENT_HOME (alias $MCP_STREAMABLEHTTP_CLIENT_HOME), else
$XDG_CONFIG_HOME/mcp-streamablehttp-client (~/.config/...).
`;
