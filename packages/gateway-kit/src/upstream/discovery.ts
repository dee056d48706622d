import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { parseBearerChallenge } from '@mcp-gateway/internal/bearer-challenge';
import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import {
  authorizationServerMetadataUrls,
  protectedResourceMetadataUrls,
  resourceCovers,
} from '@mcp-gateway/internal/oauth-metadata-urls';
import { AddressRefusedError } from '../http/address-guard.js';
import { allowedAuthorizationEndpoint } from './authorization-url.js';
import { endpointRefusal } from './endpoint-reach.js';
import { UpstreamEndpointRefused, UpstreamOAuthError } from './errors.js';

/** How discovery reaches the upstream: the guarded fetch of the sign-in, and whether plain http is allowed. */
export interface DiscoveryFetch {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** Plain-http metadata locations are allowed (the configured upstream is http). */
  insecure: boolean;
}

/** What discovery learns of an upstream MCP endpoint. */
export interface UpstreamDiscovery {
  /** The RFC 9728 `resource`: the configured URL or a parent of it (RFC 8707 `resource` of every request). */
  resource: string;
  /** The document's `scopes_supported`. */
  scopesSupported?: string[] | undefined;
  /**
   * The `scope` of the upstream's 401 challenge to the unauthenticated `ping` (MCP authorization,
   * "Scope Selection Strategy": what a first sign-in asks for before `scopes_supported`).
   */
  challengeScope?: string | undefined;
  /** The metadata of its (first) authorization server; `issuer` is exactly the name the document gave. */
  as: oauth.AuthorizationServer;
  /** Where the RFC 9728 document was found (a 401 challenge naming another location says the upstream changed). */
  metadataUrl: string;
  /** The least `Cache-Control: max-age` of the two documents, in ms (`undefined`: neither said). */
  maxAgeMs?: number | undefined;
}

/** A metadata document larger than this is refused. */
const MAX_METADATA_BYTES = 256 * 1024;
/** Each request of the discovery gives up after this long. */
const TIMEOUT_MS = 30_000;

/** The members of an RFC 9728 document the gateway uses. */
const ResourceMetadataSchema = z.looseObject({
  resource: z.string(),
  authorization_servers: z.array(z.string()).min(1),
  scopes_supported: z.array(z.string()).optional(),
});

/**
 * MCP authorization discovery of the upstream at `resource` (MCP 2026-07-28, "Authorization
 * Server Discovery"): an unauthenticated `ping` to learn the `resource_metadata` (and `scope`)
 * of its 401 challenge; the RFC 9728 document from there, else from the path-inserted well-known URL, else
 * from the root one; then the metadata of the first authorization server it names, at RFC 8414
 * path-inserted, OpenID Connect path-inserted, then OpenID Connect path-appended locations. The
 * metadata's `issuer` must be the very string the document names (no URL normalisation), and its
 * `authorization_endpoint`, where users' browsers go, an allowed URL
 * ({@link allowedAuthorizationEndpoint}: else `UpstreamAuthorizationUrlRefused`).
 */
export async function discoverUpstream(resource: URL, http: DiscoveryFetch): Promise<UpstreamDiscovery> {
  const challenged = await initialChallenge(resource, http);
  const candidates = [
    ...new Set([
      ...(challenged.metadataUrl ? [challenged.metadataUrl] : []),
      ...protectedResourceMetadataUrls(resource),
    ]),
  ];
  let metadataUrl = '';
  const ages: (number | undefined)[] = [];
  const rs = await firstDocument(
    candidates,
    http,
    { field: 'resource metadata', own: resource.origin },
    async (url, response) => {
      metadataUrl = new URL(url).href;
      ages.push(maxAgeMs(response));
      const parsed = ResourceMetadataSchema.safeParse(await readJson(url, response));
      if (!parsed.success)
        throw new UpstreamOAuthError(
          `the RFC 9728 document at ${url} is malformed: ${parsed.error.issues[0]?.message}`,
        );
      if (!resourceCovers(parsed.data.resource, resource))
        throw new UpstreamOAuthError(
          `the RFC 9728 document at ${url} is for ${parsed.data.resource}, not ${resource.href}`,
        );
      return parsed.data;
    },
  );
  if (!rs)
    throw new UpstreamOAuthError(
      `${resource.href} publishes no RFC 9728 document (tried ${candidates.join(', ')})`,
    );
  const issuer = rs.authorization_servers[0]!;
  if (!allowedLocation(issuer, http))
    throw new UpstreamOAuthError(
      `${resource.href} names authorization server "${issuer}", not an ${http.insecure ? 'http(s)' : 'https'} URL`,
    );
  const locations = authorizationServerMetadataUrls(new URL(issuer));
  const as = await firstDocument(
    locations,
    http,
    { field: 'authorization server' },
    async (url, response) => {
      ages.push(maxAgeMs(response));
      const metadata = await oauth.processDiscoveryResponse(new URL(issuer), response);
      // oauth4webapi compares URLs (`https://as/` matches `https://as`); the issuer must be identical.
      if (metadata.issuer !== issuer)
        throw new UpstreamOAuthError(
          `the metadata at ${url} names issuer "${metadata.issuer}", not "${issuer}"`,
        );
      return metadata;
    },
  );
  if (!as)
    throw new UpstreamOAuthError(
      `${issuer} publishes no authorization server metadata (tried ${locations.join(', ')})`,
    );
  // A browser is never sent to `javascript:`, `file:`, …: refused before anything is registered there.
  if (as.authorization_endpoint !== undefined)
    allowedAuthorizationEndpoint(as.issuer, as.authorization_endpoint);
  const said = ages.filter((a) => a !== undefined);
  return {
    resource: rs.resource,
    scopesSupported: rs.scopes_supported,
    challengeScope: challenged.scope,
    as,
    metadataUrl,
    maxAgeMs: said.length > 0 ? Math.min(...said) : undefined,
  };
}

/** The `max-age` of a response's `Cache-Control`, in ms (`undefined`: none). */
function maxAgeMs(response: Response): number | undefined {
  const age = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(
    response.headers.get('cache-control') ?? '',
  );
  return age ? Number(age[1]) * 1000 : undefined;
}

/**
 * The `resource_metadata` and `scope` of the upstream's answer to a `ping` without credentials (its
 * 401 challenge); neither when there is no challenge or the upstream could not be asked (the
 * well-known locations are tried all the same).
 */
async function initialChallenge(
  resource: URL,
  http: DiscoveryFetch,
): Promise<{ metadataUrl?: string | undefined; scope?: string | undefined }> {
  try {
    const response = await http.fetch(resource.href, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-discovery', method: 'ping' }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => {});
    if (response.status !== 401) return {};
    const challenge = await parseBearerChallenge(response);
    const url = challenge?.resource_metadata;
    return {
      metadataUrl: url && allowedLocation(url, http) ? new URL(url).href : undefined,
      scope: challenge?.scope,
    };
  } catch {
    return {};
  }
}

/** An absolute http(s) URL; plain http only when the configured upstream is http. */
function allowedLocation(url: string, http: DiscoveryFetch): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === 'https:' || (http.insecure && protocol === 'http:');
}

/**
 * The first of `urls` that answers 200, read by `read`; `undefined` when none does. A 200 that
 * `read` refuses is an error (a document exists but is wrong), not a reason to try the next. An
 * address refusal of a location is said as one of the upstream's `what` (an
 * {@link UpstreamEndpointRefused}), except on the `own` origin (the configured upstream's: its
 * refusal is the service's own).
 */
async function firstDocument<T>(
  urls: string[],
  http: DiscoveryFetch,
  what: { field: string; own?: string },
  read: (url: string, response: Response) => Promise<T>,
): Promise<T | undefined> {
  for (const url of urls) {
    const response = await http
      .fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
      .catch((err: unknown) => {
        if (new URL(url).origin === what.own) throw err;
        return refusedAs(what.field, url)(err);
      });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      continue;
    }
    const body = await readCappedBody(
      response,
      MAX_METADATA_BYTES,
      () => new UpstreamOAuthError(`${url} is too large`),
    );
    const text = body ? new TextDecoder().decode(body) : null;
    return read(url, new Response(text, { status: 200, headers: response.headers }));
  }
  return undefined;
}

async function readJson(url: string, response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    throw new UpstreamOAuthError(`${url} is not JSON`);
  }
}

/** Rethrows an address refusal of a metadata-named endpoint as an {@link UpstreamEndpointRefused} that says which. */
function refusedAs(field: string, url: string) {
  return (err: unknown): never => {
    if (err instanceof AddressRefusedError)
      throw new UpstreamEndpointRefused(endpointRefusal(field, url, err));
    throw err;
  };
}
