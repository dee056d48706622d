import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { StdioBridge } from '../bridge/bridge.js';
import { openConnection, type McpConnection } from '../connection.js';
import { doctor, type DoctorReport } from '../doctor.js';
import { ClientError, EXIT_CODES, UsageError } from '../errors.js';
import { readEnv } from '../env.js';
import { createAuthFetch } from '../http/auth-fetch.js';
import { toClientError } from '../http/mcp-errors.js';
import { createLogger, type LogLevel, type Logger } from '../log.js';
import { parsePrivateKey } from '../oauth/private-key-jwt.js';
import {
  parseProtocolPreference,
  PROTOCOL_PREFERENCES,
  type ProtocolPreference,
} from '../protocol/versions.js';
import { OAuthSession, type OAuthGrant, type OAuthSessionOptions } from '../oauth/session.js';
import { defaultStoreHome, FileTokenStore } from '../store/file.js';
import { readCredentialsFile, readSmallFile, type CredentialsFile } from './credentials-file.js';
import { CLI_ENV, COMMANDS, HELP, parseCli, withEnv, type CliFlags } from './args.js';
import {
  looseValue,
  parseArgsJson,
  parseCommand,
  parseHeaders,
  parsePairs,
  splitCommaPairs,
  type PropertyTypes,
} from './values.js';

/** Where the CLI reads and writes; injectable for tests. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];

function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

interface Context {
  flags: CliFlags;
  io: CliIo;
  url: URL;
  log: Logger;
  headers: Record<string, string>;
  out(human: string, json: unknown): void;
}

function resolveUrl(flags: CliFlags, env: NodeJS.ProcessEnv, positional?: string): URL {
  const raw = flags.url ?? flags['server-url'] ?? positional ?? readEnv(env, CLI_ENV.url);
  if (!raw) throw new UsageError('no server URL: pass --url URL (or set MCP_CLIENT_URL)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be http(s), got ${url.protocol}`);
  return url;
}

function intFlag(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const GRANTS: Record<string, OAuthGrant> = {
  'authorization-code': 'authorization_code',
  'client-credentials': 'client_credentials',
  'id-jag': 'id_jag',
};

/** `--grant`, checked; `--workload-token` means the JWT-bearer grant. */
function grantOf(flags: CliFlags): OAuthGrant {
  if (flags['workload-token']) {
    if (flags.grant && flags.grant !== 'jwt-bearer')
      throw new UsageError(`--workload-token uses the jwt-bearer grant, not ${JSON.stringify(flags.grant)}`);
    return 'jwt_bearer';
  }
  if (flags.grant === 'jwt-bearer') throw new UsageError('--grant jwt-bearer needs --workload-token FILE');
  const g = flags.grant ?? 'authorization-code';
  const grant = GRANTS[g];
  if (!grant)
    throw new UsageError(
      `--grant must be one of ${Object.keys(GRANTS).join(', ')}; got ${JSON.stringify(g)}`,
    );
  return grant;
}

/**
 * The client and IdP credentials: flags, then `--client-credentials-file`,
 * then (for the key) `--private-key`. Secrets are never logged.
 */
function credentialsOf(
  f: CliFlags,
): Pick<OAuthSessionOptions, 'staticClient' | 'privateKey' | 'identityProvider'> {
  const file: CredentialsFile = f['client-credentials-file']
    ? readCredentialsFile(f['client-credentials-file'])
    : {};
  const clientId = f['client-id'] ?? file.client_id;
  const clientSecret = f['client-secret'] ?? file.client_secret;
  if (clientSecret && !clientId) throw new UsageError('--client-secret needs --client-id');
  const out: Pick<OAuthSessionOptions, 'staticClient' | 'privateKey' | 'identityProvider'> = {};
  if (clientId)
    out.staticClient = { client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) };
  const alg = f['private-key-alg'] ?? file.signing_algorithm;
  if (f['private-key']) {
    out.privateKey = parsePrivateKey(
      readSmallFile(f['private-key'], '--private-key'),
      `--private-key ${f['private-key']}`,
      alg,
    );
  } else if (file.private_key_pem || file.private_key_jwk) {
    const jwk = file.private_key_jwk;
    const keyText = file.private_key_pem ?? (typeof jwk === 'string' ? jwk : JSON.stringify(jwk));
    out.privateKey = parsePrivateKey(keyText, '--client-credentials-file private key', alg);
  }
  if (out.privateKey && !clientId)
    throw new UsageError('a private key needs --client-id (or client_id in the credentials file)');
  const tokenEndpoint = f['idp-token-endpoint'] ?? file.idp_token_endpoint;
  const idpClientId = f['idp-client-id'] ?? file.idp_client_id;
  const subjectToken = f['idp-id-token'] ?? file.idp_id_token;
  if (tokenEndpoint || idpClientId || subjectToken) {
    const missing = [
      !tokenEndpoint && '--idp-token-endpoint',
      !idpClientId && '--idp-client-id',
      !subjectToken && '--idp-id-token',
    ].filter(Boolean);
    if (missing.length) throw new UsageError(`cross-app access also needs ${missing.join(', ')}`);
    if (!URL.canParse(tokenEndpoint!)) throw new UsageError('--idp-token-endpoint is not a URL');
    const idpSecret = f['idp-client-secret'] ?? file.idp_client_secret;
    out.identityProvider = {
      tokenEndpoint: tokenEndpoint!,
      clientId: idpClientId!,
      subjectToken: subjectToken!,
      ...(file.idp_issuer ? { issuer: file.idp_issuer } : {}),
      ...(idpSecret ? { clientSecret: idpSecret } : {}),
    };
  }
  return out;
}

/** Builds the OAuth session the flags ask for. */
function makeSession(ctx: Context, interactive: boolean): OAuthSession {
  const f = ctx.flags;
  const opts: OAuthSessionOptions = {
    serverUrl: ctx.url,
    store: new FileTokenStore({ home: defaultStoreHome(ctx.io.env) }),
    interactive,
    logger: ctx.log,
    openBrowser: !f['no-browser'],
    onAuthorizationUrl: (u) => void ctx.io.stderr.write(`To sign in, open: ${u}\n`),
  };
  Object.assign(opts, credentialsOf(f));
  const grant = grantOf(f);
  if (grant !== 'authorization_code') opts.grant = grant;
  if (f['workload-token']) opts.workloadToken = { file: f['workload-token'] };
  if (f.dpop && f['no-dpop']) throw new UsageError('--dpop and --no-dpop exclude each other');
  if (f.dpop || f['no-dpop']) opts.dpop = Boolean(f.dpop);
  if (f['client-metadata-url']) opts.clientMetadataUrl = f['client-metadata-url'];
  if (f.scope) opts.scope = f.scope;
  const port = intFlag(f['callback-port'], 'callback-port', 1, 65535);
  if (port !== undefined) opts.callbackPort = port;
  const timeout = intFlag(f['auth-timeout'], 'auth-timeout', 1, 24 * 3600);
  if (timeout !== undefined) opts.authTimeoutMs = timeout * 1000;
  return new OAuthSession(opts);
}

/**
 * The session to use for MCP traffic: with `--oauth2` (may log in), or when
 * credentials for the URL are stored (refresh only), unless `--token` or an
 * `Authorization` header says otherwise.
 */
async function trafficSession(ctx: Context): Promise<OAuthSession | undefined> {
  const fixed = ctx.flags.token || Object.keys(ctx.headers).some((k) => k.toLowerCase() === 'authorization');
  if (fixed) return undefined;
  if (ctx.flags.oauth2 || grantOf(ctx.flags) !== 'authorization_code') return makeSession(ctx, true);
  const session = makeSession(ctx, false);
  return (await session.credentials()) ? session : undefined;
}

/** `--protocol`: which MCP era to speak (default `auto`: probe with `server/discover`). */
function protocolOf(ctx: Context): ProtocolPreference {
  const p = parseProtocolPreference(ctx.flags.protocol);
  if (!p) throw new UsageError(`--protocol must be one of ${PROTOCOL_PREFERENCES.join(', ')}`);
  return p;
}

async function connectClient(ctx: Context): Promise<McpConnection> {
  const protocol = protocolOf(ctx);
  const session = await trafficSession(ctx);
  return openConnection(ctx.url, {
    ...(session ? { oauth: session } : {}),
    ...(ctx.flags.token ? { token: ctx.flags.token } : {}),
    headers: ctx.headers,
    logger: ctx.log,
    clientInfo: { name: 'mcp-streamablehttp-client', version: version() },
    protocol,
  });
}

async function withClient<T>(ctx: Context, fn: (client: McpConnection) => Promise<T>): Promise<T> {
  const client = await connectClient(ctx);
  try {
    return await fn(client);
  } catch (err) {
    throw toClientError(err, ctx.url.href);
  } finally {
    await client.close();
  }
}

function contentText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts: string[] = [];
  for (const c of (Array.isArray(result.content) ? result.content : []) as Array<Record<string, unknown>>) {
    if (c.type === 'text' && typeof c.text === 'string') parts.push(c.text);
    else if (
      c.type === 'resource' &&
      c.resource &&
      typeof (c.resource as { text?: unknown }).text === 'string'
    ) {
      parts.push((c.resource as { text: string }).text);
    } else parts.push(`[${String(c.type)}${typeof c.mimeType === 'string' ? ` ${c.mimeType}` : ''}]`);
  }
  if (!parts.length && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

async function toolArguments(
  client: McpConnection,
  name: string,
  spec: { json?: Record<string, unknown>; pairs?: string[]; single?: string },
) {
  let args: Record<string, unknown> = { ...(spec.json ?? {}) };
  if (spec.pairs?.length || spec.single !== undefined) {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === name);
    if (!tool) throw new UsageError(`the server has no tool named ${JSON.stringify(name)} (see: tools list)`);
    const props = (tool.inputSchema.properties ?? {}) as PropertyTypes;
    if (spec.pairs?.length) args = { ...args, ...parsePairs(spec.pairs, props) };
    if (spec.single !== undefined) {
      const required = tool.inputSchema.required ?? [];
      const key = required[0] ?? Object.keys(props)[0];
      if (!key) throw new UsageError(`tool ${name} takes no arguments`);
      const isString = props[key]?.type === 'string';
      args[key] = isString ? spec.single : looseValue(spec.single);
    }
  }
  return args;
}

async function callTool(
  ctx: Context,
  name: string,
  spec: Parameters<typeof toolArguments>[2],
): Promise<number> {
  return withClient(ctx, async (client) => {
    const args = await toolArguments(client, name, spec);
    const result = (await client.callTool({ name, arguments: args })) as {
      content?: unknown;
      structuredContent?: unknown;
      isError?: unknown;
    };
    ctx.out(contentText(result), result);
    return result.isError ? EXIT_CODES.server : EXIT_CODES.ok;
  });
}

function printDoctor(ctx: Context, report: DoctorReport): void {
  const mark = { pass: '✔', warn: '!', fail: '✘', skip: '-' } as const;
  const lines = [`doctor ${report.url}`];
  for (const c of report.checks) lines.push(`  ${mark[c.status]} ${c.title}: ${c.detail}`);
  lines.push(
    report.ok
      ? 'OK: a client has what it needs.'
      : 'FAIL: something a client needs is missing (see ✘ above).',
  );
  ctx.out(lines.join('\n'), report);
}

async function rawRequest(ctx: Context, text: string): Promise<number> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`raw: not JSON: ${(err as Error).message}`);
  }
  if (
    !message ||
    typeof message !== 'object' ||
    Array.isArray(message) ||
    typeof (message as { method?: unknown }).method !== 'string'
  ) {
    throw new UsageError('raw: expected one JSON-RPC request object with a "method"');
  }
  const m: Record<string, unknown> = { jsonrpc: '2.0', id: 'raw-1', ...(message as Record<string, unknown>) };
  if (m.method === 'initialize') throw new UsageError('raw: initialize is sent for you');
  return withClient(ctx, async (client) => {
    // Without an id, a `notifications/…` method is a notification; anything else is a request.
    if (!('id' in message) && String(m.method).startsWith('notifications/'))
      delete (m as { id?: unknown }).id;
    const response = await client.raw(m);
    if (!response) {
      ctx.out('sent', { sent: true });
      return EXIT_CODES.ok;
    }
    ctx.out(JSON.stringify(response, null, 2), response);
    return 'error' in response ? EXIT_CODES.server : EXIT_CODES.ok;
  });
}

async function runBridge(ctx: Context): Promise<number> {
  const protocol = protocolOf(ctx);
  const session = await trafficSession(ctx);
  const authFetch = createAuthFetch({
    ...(session ? { session } : {}),
    ...(ctx.flags.token ? { token: ctx.flags.token } : {}),
    headers: ctx.headers,
    logger: ctx.log,
  });
  const bridge = new StdioBridge({
    url: ctx.url,
    fetch: authFetch,
    input: ctx.io.stdin,
    output: ctx.io.stdout,
    logger: ctx.log,
    protocol,
    clientInfo: { name: 'mcp-streamablehttp-client', version: version() },
  });
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  ctx.log.info('bridge started', {
    url: ctx.url.href,
    auth: session ? 'oauth' : ctx.flags.token ? 'token' : 'none',
  });
  await bridge.run();
  return EXIT_CODES.ok;
}

function statusText(s: Awaited<ReturnType<OAuthSession['status']>>): string {
  if (!s.loggedIn)
    return `not logged in to ${s.server}${s.clientId ? ` (client ${s.clientId} registered)` : ''}`;
  const who = [s.claims?.sub, s.claims?.preferred_username, s.claims?.email].find(
    (v): v is string | number => typeof v === 'string' || typeof v === 'number',
  );
  return [
    `logged in to ${s.server}`,
    `  issuer:   ${s.issuer}`,
    ...(who ? [`  subject:  ${String(who)}`] : []),
    `  client:   ${s.clientId ? `${s.clientId} (${s.clientSource})` : '(none: workload token)'}`,
    `  scopes:   ${s.scope ?? '(none)'}`,
    `  expires:  ${s.expiresAt ? `${s.expiresAt}${s.expired ? ' (expired)' : ''}` : 'unknown'}`,
    `  refresh:  ${s.hasRefreshToken ? 'yes' : 'no'}`,
    ...(s.tokenType
      ? [`  binding:  ${s.tokenType === 'DPoP' ? 'DPoP (sender-constrained)' : 'Bearer'}`]
      : []),
    ...(s.storedAt ? [`  stored:   ${s.storedAt}`] : []),
  ].join('\n');
}

async function dispatch(ctx: Context, words: string[]): Promise<number> {
  const f = ctx.flags;
  const [cmd, sub, ...rest] = words;
  switch (cmd) {
    case 'login': {
      const tokens = await makeSession(ctx, true).login(f.scope ? { scope: f.scope } : {});
      const status = await makeSession(ctx, false).status();
      ctx.out(statusText(status), { ...status, scope: tokens.scope });
      return EXIT_CODES.ok;
    }
    case 'status': {
      const status = await makeSession(ctx, false).status();
      ctx.out(statusText(status), status);
      return status.loggedIn ? EXIT_CODES.ok : EXIT_CODES.auth;
    }
    case 'logout': {
      const { removed } = await makeSession(ctx, false).logout();
      ctx.out(removed ? `logged out of ${ctx.url.href}` : `no credentials stored for ${ctx.url.href}`, {
        removed,
      });
      return EXIT_CODES.ok;
    }
    case 'client': {
      const session = makeSession(ctx, false);
      if (sub === 'info') {
        const info = await session.clientInfo();
        ctx.out(JSON.stringify(info, null, 2), info);
        return EXIT_CODES.ok;
      }
      if (sub === 'update') {
        if (!rest.length)
          throw new UsageError('client update needs key=value pairs, e.g. client_name="My laptop"');
        const updated = await session.updateClient(parsePairs(rest));
        ctx.out(JSON.stringify(updated, null, 2), updated);
        return EXIT_CODES.ok;
      }
      if (sub === 'delete') {
        await session.deleteClient();
        ctx.out(`deleted the client registration and stored credentials for ${ctx.url.href}`, {
          deleted: true,
        });
        return EXIT_CODES.ok;
      }
      throw new UsageError('client: expected info, update key=value..., or delete');
    }
    case 'tools': {
      if (sub === 'list') {
        return withClient(ctx, async (client) => {
          const { tools } = await client.listTools();
          ctx.out(
            tools
              .map((t) => `${t.name}${t.description ? `  ${t.description.split('\n')[0]}` : ''}`)
              .join('\n'),
            tools,
          );
          return EXIT_CODES.ok;
        });
      }
      if (sub === 'call') {
        const [name, ...pairs] = rest;
        if (!name) throw new UsageError('tools call needs a tool name');
        return callTool(ctx, name, { ...(f.args ? { json: parseArgsJson(f.args) } : {}), pairs });
      }
      throw new UsageError('tools: expected list or call NAME');
    }
    case 'resources': {
      if (sub === 'list') {
        return withClient(ctx, async (client) => {
          const { resources } = await client.listResources();
          ctx.out(resources.map((r) => `${r.uri}${r.name ? `  ${r.name}` : ''}`).join('\n'), resources);
          return EXIT_CODES.ok;
        });
      }
      if (sub === 'read') {
        const uri = rest[0];
        if (!uri) throw new UsageError('resources read needs a URI');
        return withClient(ctx, async (client) => {
          const result = await client.readResource({ uri });
          const text = result.contents
            .map((c) => ('text' in c && typeof c.text === 'string' ? c.text : `[blob ${c.mimeType ?? ''}]`))
            .join('\n');
          ctx.out(text, result);
          return EXIT_CODES.ok;
        });
      }
      throw new UsageError('resources: expected list or read URI');
    }
    case 'prompts': {
      if (sub === 'list') {
        return withClient(ctx, async (client) => {
          const { prompts } = await client.listPrompts();
          ctx.out(
            prompts.map((p) => `${p.name}${p.description ? `  ${p.description}` : ''}`).join('\n'),
            prompts,
          );
          return EXIT_CODES.ok;
        });
      }
      if (sub === 'get') {
        const [name, ...pairs] = rest;
        if (!name) throw new UsageError('prompts get needs a prompt name');
        const args = Object.fromEntries(
          Object.entries(parsePairs(pairs)).map(([k, v]) => [
            k,
            typeof v === 'string' ? v : JSON.stringify(v),
          ]),
        );
        return withClient(ctx, async (client) => {
          const result = await client.getPrompt({ name, arguments: args });
          const text = result.messages
            .map((m) => `${m.role}: ${m.content.type === 'text' ? m.content.text : `[${m.content.type}]`}`)
            .join('\n');
          ctx.out(text, result);
          return EXIT_CODES.ok;
        });
      }
      throw new UsageError('prompts: expected list or get NAME');
    }
    case 'raw': {
      if (!sub) throw new UsageError('raw needs a JSON-RPC request, e.g. raw \'{"method":"tools/list"}\'');
      return rawRequest(ctx, sub);
    }
    case 'doctor': {
      const report = await doctor(ctx.url, ctx.flags.origin ? { origin: ctx.flags.origin } : {});
      printDoctor(ctx, report);
      return report.ok ? EXIT_CODES.ok : EXIT_CODES.server;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}; commands: ${COMMANDS.join(', ')}`);
  }
}

/** Translates the Python original's flags into a command. */
function compatCommand(f: CliFlags): string[] | undefined {
  if (f['list-tools']) return ['tools', 'list'];
  if (f['list-resources']) return ['resources', 'list'];
  if (f['list-prompts']) return ['prompts', 'list'];
  if (f['reset-auth']) return ['logout'];
  if (f['get-client-info']) return ['client', 'info'];
  if (f['delete-client']) return ['client', 'delete'];
  if (f['update-client'] !== undefined) return ['client', 'update', ...splitCommaPairs(f['update-client'])];
  if (f.raw !== undefined) return ['raw', f.raw];
  return undefined;
}

/**
 * Runs the CLI with `argv` (without `node script`). Resolves with the exit
 * code; never calls `process.exit` itself except on a signal in bridge mode.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let json = false;
  try {
    const parsed = parseCli(argv);
    const flags = withEnv(parsed.flags, io.env);
    const { positionals } = parsed;
    json = Boolean(flags.json);
    if (flags.help) {
      io.stdout.write(HELP);
      return EXIT_CODES.ok;
    }
    if (flags.version) {
      io.stdout.write(`${version()}\n`);
      return EXIT_CODES.ok;
    }
    const level = flags['log-level']?.toLowerCase() ?? 'warn';
    if (!LOG_LEVELS.includes(level))
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    const log = createLogger(level as LogLevel, (line) => void io.stderr.write(line));
    const words = compatCommand(flags) ?? positionals;
    const url = resolveUrl(flags, io.env, words[0] === 'doctor' ? words[1] : undefined);
    const ctx: Context = {
      flags,
      io,
      url,
      log,
      headers: parseHeaders(flags.header ?? [], io.env),
      out(human, value) {
        io.stdout.write((json ? JSON.stringify(value, null, 2) : human) + '\n');
      },
    };
    if (flags.token && flags.oauth2) throw new UsageError('--token and --oauth2 exclude each other');
    if (flags.command !== undefined) {
      const { name, args } = parseCommand(flags.command);
      return await callTool(ctx, name, {
        ...(args.kind === 'json' ? { json: args.value } : {}),
        ...(args.kind === 'pairs' ? { pairs: args.pairs } : {}),
        ...(args.kind === 'single' ? { single: args.value } : {}),
      });
    }
    if (flags['test-auth']) {
      const session = makeSession(ctx, false);
      const status = await session.status();
      await withClient(ctx, async () => undefined);
      ctx.out(
        `authentication works for ${url.href}${status.loggedIn ? ` (token expires ${status.expiresAt ?? 'unknown'})` : ''}`,
        {
          ok: true,
          status,
        },
      );
      return EXIT_CODES.ok;
    }
    if (!words.length) return await runBridge(ctx);
    return await dispatch(ctx, words);
  } catch (err) {
    const e = err instanceof ClientError ? err : toClientError(err, '');
    io.stderr.write(`error: ${e.message}\n`);
    if (e instanceof UsageError) io.stderr.write('(see mcp-streamablehttp-client --help)\n');
    if (json)
      io.stdout.write(
        JSON.stringify({ error: { kind: e.kind, code: e.code, message: e.message } }, null, 2) + '\n',
      );
    return e.exitCode;
  }
}
