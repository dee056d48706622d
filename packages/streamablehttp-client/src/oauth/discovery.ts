import { fetchOrThrow, type FetchLike } from '../http/fetch.js';
import type { Logger } from '../log.js';
import {
  assertTokenEndpoint,
  assertUsableAuthorizationServer,
  discoverAuthorizationServer,
  discoverLegacyAuthorizationServer,
  type AuthorizationServerMetadata,
} from './authorization-server.js';
import { parseBearerChallenge, type BearerChallenge } from './challenge.js';
import { discoverProtectedResource, type ProtectedResourceMetadata } from './protected-resource.js';

/** Everything a client learns about how to get a token for an MCP server. */
export interface Discovery {
  /** The MCP endpoint. */
  serverUrl: string;
  /** RFC 8707 `resource` value: the metadata's `resource`, else the server URL. */
  resource: string;
  resourceMetadataUrl?: string;
  resourceMetadata?: ProtectedResourceMetadata;
  issuer: string;
  authorizationServer: AuthorizationServerMetadata;
  authorizationServerMetadataUrl: string;
  /** Scopes to ask for: from the challenge, else the resource metadata's `scopes_supported`. */
  scope?: string;
}

/** The outcome of an unauthenticated probe of an MCP endpoint. */
export interface ProbeResult {
  status: number;
  headers: Headers;
  challenge?: BearerChallenge;
  contentType: string | null;
  body: string;
}

/** The JSON-RPC body of a probe: a `ping`, harmless on any MCP server. */
export const PROBE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 'mcp-streamablehttp-client-probe',
  method: 'ping',
});

/**
 * POSTs a `ping` without credentials to learn whether the server wants
 * authorization, and how (its 401 `WWW-Authenticate` challenge).
 */
export async function probe(
  serverUrl: URL,
  opts: { fetch: FetchLike; timeoutMs?: number; origin?: string },
): Promise<ProbeResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (opts.origin) headers.origin = opts.origin;
  const response = await fetchOrThrow(
    opts.fetch,
    serverUrl,
    { method: 'POST', headers, body: PROBE_BODY },
    opts.timeoutMs,
  );
  const challenge = await parseBearerChallenge(response);
  const contentType = response.headers.get('content-type');
  // An SSE answer may never end: read a JSON body only.
  const body =
    contentType?.includes('json') || response.status >= 400 ? await response.text().catch(() => '') : '';
  if (!body) await response.body?.cancel().catch(() => {});
  return { status: response.status, headers: response.headers, challenge, contentType, body };
}

/**
 * MCP authorization discovery: the protected-resource metadata (RFC 9728, from
 * the challenge's `resource_metadata`, the path-aware well-known URL, then the
 * root), then the authorization server's metadata (RFC 8414 / OIDC) with the
 * issuer check. A server without RFC 9728 metadata is treated the 2025-03-26
 * way (see {@link discoverLegacyAuthorizationServer}).
 */
export async function discover(
  serverUrl: URL,
  opts: {
    fetch: FetchLike;
    challenge?: BearerChallenge;
    timeoutMs?: number;
    log?: Logger;
    /** Check what the authorization-code flow needs (default); false: only a token endpoint. */
    authorizationCode?: boolean;
  },
): Promise<Discovery> {
  let challenge = opts.challenge;
  if (!challenge) {
    const probed = await probe(serverUrl, opts);
    challenge = probed.challenge;
  }
  const prm = await discoverProtectedResource(serverUrl, {
    fetch: opts.fetch,
    challengeUrl: challenge?.resource_metadata,
    timeoutMs: opts.timeoutMs,
  });
  const as = prm
    ? await discoverAuthorizationServer(prm.metadata.authorization_servers[0]!, opts)
    : await discoverLegacyAuthorizationServer(serverUrl, opts);
  if (opts.authorizationCode === false) assertTokenEndpoint(as.metadata);
  else assertUsableAuthorizationServer(as.metadata);
  const scope = challenge?.scope ?? prm?.metadata.scopes_supported?.join(' ');
  const out: Discovery = {
    serverUrl: serverUrl.href,
    resource: prm?.metadata.resource ?? serverUrl.href,
    issuer: as.metadata.issuer,
    authorizationServer: as.metadata,
    authorizationServerMetadataUrl: as.url,
  };
  if (prm) {
    out.resourceMetadataUrl = prm.url;
    out.resourceMetadata = prm.metadata;
  }
  if (scope) out.scope = scope;
  return out;
}
