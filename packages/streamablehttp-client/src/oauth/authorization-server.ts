import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { DiscoveryError } from '../errors.js';
import { summarizeBody, type FetchLike } from '../http/fetch.js';
import type { Logger } from '../log.js';
import { authorizationServerMetadataUrls } from '@mcp-gateway/internal/oauth-metadata-urls';
import { checkBrowserUrl } from './browser-url.js';
import { getMetadataDocument } from './metadata-request.js';

export { authorizationServerMetadataUrls };

/** Authorization-server metadata (RFC 8414 / OpenID Connect Discovery), validated by oauth4webapi. */
export type AuthorizationServerMetadata = oauth.AuthorizationServer & {
  client_id_metadata_document_supported?: boolean;
};

/** The fields a client relies on, type-checked (oauth4webapi checks `issuer`). */
const UsedFieldsSchema = z.looseObject({
  authorization_endpoint: z.url().optional(),
  token_endpoint: z.url().optional(),
  registration_endpoint: z.url().optional(),
  revocation_endpoint: z.url().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
  client_id_metadata_document_supported: z.boolean().optional(),
});

/** Where the metadata was found, and what it says. */
export interface AuthorizationServerDiscovery {
  url: string;
  metadata: AuthorizationServerMetadata;
}

/**
 * Fetches the authorization server's metadata and checks that its `issuer` is
 * exactly `issuer`, character for character (RFC 8414 §3.3; a mismatch is a
 * mix-up attack and fails hard with `issuer_mismatch`). Locations that answer
 * non-200 are skipped; a 200 that is not valid metadata is an error.
 */
export async function discoverAuthorizationServer(
  issuer: string,
  opts: { fetch: FetchLike; timeoutMs?: number },
): Promise<AuthorizationServerDiscovery> {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new DiscoveryError('invalid_resource_metadata', `authorization server "${issuer}" is not a URL`);
  }
  const found = await firstMetadataDocument(authorizationServerMetadataUrls(issuerUrl), opts);
  if ('tried' in found) {
    throw new DiscoveryError(
      'authorization_server_not_found',
      `no authorization server metadata for ${issuerUrl.href} (tried ${found.tried.join(', ')})`,
    );
  }
  const metadata = await readMetadata(found.url, found.response, issuerUrl, issuer);
  // MCP 2026-07-28, Authorization Server Metadata Discovery: "the `issuer` value in the document
  // **MUST** be identical to the issuer identifier used to construct the well-known URL. If they
  // differ, the client **MUST NOT** use the metadata." oauth4webapi compares `new URL(…).href` of
  // both, which takes `https://as.example/` or `HTTPS://AS.EXAMPLE:443` for `https://as.example`:
  // the raw strings are compared here (RFC 3986 §6.2.1 simple string comparison).
  if (metadata.issuer !== issuer) throw issuerMismatch(found.url, metadata.issuer, issuer);
  return { url: found.url, metadata };
}

/** The `issuer_mismatch` error of metadata at `url` naming `got` instead of `expected`. */
function issuerMismatch(url: string, got: unknown, expected: string, cause?: unknown): DiscoveryError {
  return new DiscoveryError(
    'issuer_mismatch',
    `authorization server metadata at ${url} names issuer ${JSON.stringify(got)}, expected ${JSON.stringify(expected)} (the issuer must be identical, character for character); not using it`,
    cause === undefined ? undefined : { cause },
  );
}

/** How a 2025-03-26 server's authorization server was found. */
export interface LegacyAuthorizationServerDiscovery extends AuthorizationServerDiscovery {
  /** True when the server publishes no metadata and the default endpoints are used. */
  defaultEndpoints: boolean;
}

/**
 * MCP 2025-03-26 discovery, for servers without RFC 9728 metadata: the
 * authorization base URL is the MCP server's origin (path discarded); its
 * RFC 8414 metadata is used whatever `issuer` it names (that revision has no
 * issuer to compare against; a differing one is logged). Without metadata the
 * default endpoints `/authorize`, `/token` and `/register` at the origin apply
 * (2025-03-26 "Fallbacks for Servers without Metadata Discovery"), with PKCE
 * S256, which that revision requires of every client.
 */
export async function discoverLegacyAuthorizationServer(
  serverUrl: URL,
  opts: { fetch: FetchLike; timeoutMs?: number; log?: Logger },
): Promise<LegacyAuthorizationServerDiscovery> {
  const base = new URL(serverUrl.origin);
  const found = await firstMetadataDocument(authorizationServerMetadataUrls(base), opts);
  if ('tried' in found) {
    opts.log?.warn('no OAuth metadata; using the 2025-03-26 default endpoints', {
      server: serverUrl.href,
      tried: found.tried,
    });
    const at = (p: string) => new URL(p, base).href;
    return {
      url: at('/.well-known/oauth-authorization-server'),
      defaultEndpoints: true,
      metadata: {
        issuer: base.href,
        authorization_endpoint: at('/authorize'),
        token_endpoint: at('/token'),
        registration_endpoint: at('/register'),
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      },
    };
  }
  const named = await found.response
    .clone()
    .json()
    .then((b: unknown) => (b && typeof b === 'object' ? (b as { issuer?: unknown }).issuer : undefined))
    .catch(() => undefined);
  let expected = base;
  if (typeof named === 'string' && URL.canParse(named)) expected = new URL(named);
  const metadata = await readMetadata(found.url, found.response, expected);
  if (metadata.issuer !== base.href) {
    opts.log?.warn('2025-03-26 authorization server metadata names another issuer; using it', {
      url: found.url,
      issuer: metadata.issuer,
    });
  }
  return { url: found.url, metadata, defaultEndpoints: false };
}

/** The first of `urls` that answers 200, or every location tried with its status. */
async function firstMetadataDocument(
  urls: string[],
  opts: { fetch: FetchLike; timeoutMs?: number },
): Promise<{ url: string; response: Response } | { tried: string[] }> {
  const tried: string[] = [];
  for (const url of urls) {
    const response = await getMetadataDocument(opts.fetch, url, opts.timeoutMs);
    if (response.status === 200) return { url, response };
    tried.push(`${url} → HTTP ${response.status}`);
    await response.body?.cancel();
  }
  return { tried };
}

/**
 * Validates a metadata document (oauth4webapi, then the fields we use) and its `issuer` against
 * `issuerUrl`; errors name the issuer as `expected`.
 */
async function readMetadata(
  url: string,
  response: Response,
  issuerUrl: URL,
  expected = issuerUrl.href,
): Promise<AuthorizationServerMetadata> {
  const contentType = response.headers.get('content-type');
  const copy = response.clone();
  try {
    const metadata = (await oauth.processDiscoveryResponse(
      issuerUrl,
      response,
    )) as AuthorizationServerMetadata;
    const checked = UsedFieldsSchema.safeParse(metadata);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      throw new DiscoveryError(
        'invalid_authorization_server_metadata',
        `authorization server metadata at ${url} is malformed: ${issue.path.join('.')}: ${issue.message}`,
      );
    }
    return metadata;
  } catch (err) {
    if (err instanceof DiscoveryError) throw err;
    if (err instanceof oauth.OperationProcessingError && err.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      const got = (err.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
      throw issuerMismatch(url, got, expected, err);
    }
    const body = await copy.text().catch(() => '');
    const what =
      err instanceof oauth.OperationProcessingError &&
      (err.code === oauth.PARSE_ERROR || err.code === oauth.RESPONSE_IS_NOT_JSON)
        ? `is not JSON: got ${summarizeBody(contentType, body)}`
        : `is malformed: ${err instanceof Error ? err.message : String(err)}`;
    throw new DiscoveryError(
      'invalid_authorization_server_metadata',
      `authorization server metadata at ${url} ${what}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Checks what a client needs from the metadata: authorization and token
 * endpoints, an `authorization_endpoint` that may be opened in a browser
 * (`https:`, or `http:` on a loopback host; else an `UnsafeUrlError`, see
 * `checkBrowserUrl`), and PKCE with S256
 * (the MCP spec requires clients to refuse servers that do not advertise it).
 */
export function assertUsableAuthorizationServer(as: AuthorizationServerMetadata): void {
  if (!as.authorization_endpoint || !as.token_endpoint) {
    throw new DiscoveryError(
      'invalid_authorization_server_metadata',
      `authorization server ${as.issuer} metadata lacks ${!as.authorization_endpoint ? 'authorization_endpoint' : 'token_endpoint'}`,
    );
  }
  checkBrowserUrl(as.authorization_endpoint, `the authorization_endpoint of ${as.issuer}`);
  if (!as.code_challenge_methods_supported?.includes('S256')) {
    throw new DiscoveryError(
      'pkce_not_supported',
      `authorization server ${as.issuer} does not advertise PKCE S256 (code_challenge_methods_supported); refusing to log in`,
    );
  }
}

/** Checks what a grant without the browser needs from the metadata: a token endpoint. */
export function assertTokenEndpoint(as: AuthorizationServerMetadata): void {
  if (!as.token_endpoint) {
    throw new DiscoveryError(
      'invalid_authorization_server_metadata',
      `authorization server ${as.issuer} metadata lacks token_endpoint (RFC 8414 §2 requires it unless only the implicit grant is supported)`,
    );
  }
}
