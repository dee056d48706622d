import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { DiscoveryError } from '../errors.js';
import { fetchOrThrow, summarizeBody, type FetchLike } from '../http/fetch.js';

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
 * The metadata URLs to try for `issuer`, in the order the MCP authorization
 * spec gives: RFC 8414 path-inserted, OIDC path-inserted, OIDC path-appended
 * (for an issuer with a path); RFC 8414 then OIDC for one without.
 */
export function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  const at = (p: string) => new URL(p, issuer.origin).href;
  if (!path) return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`/.well-known/openid-configuration${path}`),
    at(`${path}/.well-known/openid-configuration`),
  ];
}

/**
 * Fetches the authorization server's metadata and checks that its `issuer` is
 * exactly `issuer` (RFC 8414 §3.3; a mismatch is a mix-up attack and fails
 * hard). Locations that answer non-200 are skipped; a 200 that is not valid
 * metadata is an error.
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
  const tried: string[] = [];
  for (const url of authorizationServerMetadataUrls(issuerUrl)) {
    const response = await fetchOrThrow(
      opts.fetch,
      url,
      { headers: { accept: 'application/json' } },
      opts.timeoutMs,
    );
    if (response.status !== 200) {
      tried.push(`${url} → HTTP ${response.status}`);
      await response.body?.cancel();
      continue;
    }
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
      return { url, metadata };
    } catch (err) {
      if (err instanceof DiscoveryError) throw err;
      if (err instanceof oauth.OperationProcessingError && err.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
        const got = (err.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
        throw new DiscoveryError(
          'issuer_mismatch',
          `authorization server metadata at ${url} names issuer ${JSON.stringify(got)}, expected ${JSON.stringify(issuerUrl.href)}`,
          { cause: err },
        );
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
  throw new DiscoveryError(
    'authorization_server_not_found',
    `no authorization server metadata for ${issuerUrl.href} (tried ${tried.join(', ')})`,
  );
}

/**
 * Checks what a client needs from the metadata: authorization and token
 * endpoints, and PKCE with S256 (the MCP spec requires clients to refuse
 * servers that do not advertise it).
 */
export function assertUsableAuthorizationServer(as: AuthorizationServerMetadata): void {
  if (!as.authorization_endpoint || !as.token_endpoint) {
    throw new DiscoveryError(
      'invalid_authorization_server_metadata',
      `authorization server ${as.issuer} metadata lacks ${!as.authorization_endpoint ? 'authorization_endpoint' : 'token_endpoint'}`,
    );
  }
  if (!as.code_challenge_methods_supported?.includes('S256')) {
    throw new DiscoveryError(
      'pkce_not_supported',
      `authorization server ${as.issuer} does not advertise PKCE S256 (code_challenge_methods_supported); refusing to log in`,
    );
  }
}
