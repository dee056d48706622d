import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route, ServerContext } from '../context.js';
import { unavailableError } from '../http/errors.js';
import { bodyResponse } from '../http/known-body.js';
import { acceptLazyRequests } from '@mcp-gateway/internal/lazy-request';
import { toNodeListener } from '../adapters/node.js';
import { lazyResponse } from '@mcp-gateway/internal/lazy-response';
import { publicJson } from '../http/responses.js';
import { canonicalResource } from '../resource/canonical.js';
import { bearerChallenge, schemeChallenge, type ChallengeInput } from '../resource/challenge.js';
import {
  challengeScheme,
  parseAuthorization,
  verifyPresentation,
  type PresentedToken,
} from '../resource/presentation.js';
import { DpopError } from '../dpop/errors.js';
import { serverDpop } from '../dpop/services.js';
import { InsufficientScopeError, InvalidTokenError } from '../tokens/errors.js';
import { flowServices } from './flow-services.js';
import { protectedResourceMetadataUrl } from './protected-resource.js';

/** Header-safe value: printable ASCII as is, anything else percent-encoded (UTF-8). */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** What `/verify` answers, independent of the HTTP layer. */
export interface ForwardAuthDecision {
  /** `503` when the store (revocation list, keys) is unreachable: the proxy should refuse the request. */
  /** `400` when `X-Forwarded-Host` is not a plain `host[:port]`. */
  status: 200 | 400 | 401 | 403 | 503;
  headers: Record<string, string>;
  body?: string;
}

/** Reads one request header (lower-case name); `undefined` when absent. */
export type HeaderReader = (name: string) => string | undefined;

/**
 * A strict `host[:port]`: DNS labels (letters, digits, `-`, `_`), an IPv4
 * address or a bracketed IPv6 literal, optionally a port. No path, userinfo,
 * query, whitespace or percent-escapes.
 */
const FORWARDED_HOST =
  /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/i;

/** Whether `host` (one `X-Forwarded-Host` value) is a plain `host[:port]`. */
export function isPlainHost(host: string): boolean {
  if (host.length > 261) return false;
  const m = FORWARDED_HOST.exec(host);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65535);
}

interface Resolver {
  resources: { resource: string; canonical: string; metadata: string }[];
}

/** The resources by longest canonical URL first, recomputed when `ctx.resources` changes. */
function resolver(ctx: ServerContext): Resolver {
  let seen: ServerContext['resources']['list'] | undefined;
  let resources: Resolver['resources'] = [];
  return {
    get resources() {
      if (ctx.resources.list !== seen) {
        seen = ctx.resources.list;
        resources = seen
          .map((r) => ({
            resource: r.resource,
            canonical: canonicalResource(r.resource) ?? '',
            metadata: protectedResourceMetadataUrl(r.resource),
          }))
          .filter((r) => r.canonical !== '')
          .sort((a, b) => b.canonical.length - a.canonical.length);
      }
      return resources;
    },
  };
}

/**
 * The configured resource a forwarded request belongs to: the one whose
 * canonical URL is the longest prefix (at a path-segment boundary) of
 * `X-Forwarded-Proto://X-Forwarded-Host X-Forwarded-Uri`. Paths with dot
 * segments or percent-escapes are normalised by the URL parser first.
 */
function resolveForwarded(
  r: Resolver,
  header: HeaderReader,
  ownHost: string,
  ownProto: string,
): { target: Resolver['resources'][number] | undefined; url: string } | 'bad_host' {
  const proto = (header('x-forwarded-proto') ?? ownProto).split(',')[0]!.trim().toLowerCase();
  const host = (header('x-forwarded-host') ?? ownHost).split(',')[0]!.trim().toLowerCase();
  if (!isPlainHost(host)) return 'bad_host';
  let path = (header('x-forwarded-uri') ?? '/').split(/[?#]/)[0]!;
  if (!path.startsWith('/')) path = `/${path}`;
  // The URL the client addressed: what a DPoP proof's `htu` must name (RFC 9449 §4.3, normalised there).
  const url = `${proto}://${host}${path}`;
  let here = url;
  if (/%|\/\.|\\/.test(path) || !/^https?$/.test(proto)) {
    try {
      const u = new URL(path, `${proto}://${host}`);
      here = `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return { target: undefined, url };
    }
  }
  here = here.replace(/\/+$/, '');
  return { target: r.resources.find((x) => here === x.canonical || here.startsWith(`${x.canonical}/`)), url };
}

function json(
  status: 400 | 401 | 403 | 503,
  error: string,
  description: string,
  challenge?: string,
): ForwardAuthDecision {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...(challenge ? { 'www-authenticate': challenge } : {}),
    },
    body: JSON.stringify({ error, error_description: description }),
  };
}

/**
 * Decides a ForwardAuth request from its headers and the `scope` query
 * parameter of the verify URL. Framework-agnostic: the fetch route and the
 * node listener both call it.
 */
export async function decideForwardAuth(
  ctx: ServerContext,
  r: Resolver,
  header: HeaderReader,
  scopeParam: string | null,
  own: { host: string; proto: string },
): Promise<ForwardAuthDecision> {
  const flows = flowServices(ctx);
  const fixed = ctx.options.forwardAuth.scopes ?? [];
  const scopes = scopeParam ? [...new Set([...fixed, ...scopeParam.split(' ').filter(Boolean)])] : fixed;
  const forwarded = resolveForwarded(r, header, own.host, own.proto);
  if (forwarded === 'bad_host')
    return json(400, 'invalid_request', 'X-Forwarded-Host must be a plain host[:port]');
  const target = forwarded.target;
  if (!target) return { ...json(403, 'invalid_target', 'no configured resource at this URL') };
  const challenge: ChallengeInput = {
    resourceMetadata: target.metadata,
    ...(scopes.length ? { scopes } : {}),
  };
  const authorization = header('authorization');
  const presented = authorization === undefined ? undefined : parseAuthorization(authorization);
  if (!presented) {
    if (authorization === undefined) {
      return {
        status: 401,
        headers: { 'www-authenticate': bearerChallenge(challenge), 'cache-control': 'no-store' },
      };
    }
    const description = 'malformed Authorization header';
    return json(
      401,
      'invalid_token',
      description,
      bearerChallenge({ ...challenge, error: 'invalid_token', description }),
    );
  }
  const dpop = serverDpop(ctx);
  try {
    // Traefik sends the original method as X-Forwarded-Method; without it a DPoP proof cannot be checked.
    const method = header('x-forwarded-method');
    const http = method
      ? { method: method.trim().toUpperCase(), url: forwarded.url, dpop: header('dpop') }
      : undefined;
    const verified = await verifyPresentation(presented, http, dpop, (dpopKey) =>
      flows.verifier.verify(presented.token, {
        resource: target.resource,
        scopes,
        ...(dpopKey !== undefined ? { dpopKey } : {}),
      }),
    );
    const headers: Record<string, string> = {
      'x-user-id': headerValue(verified.sub),
      'x-user-name': headerValue(verified.login ?? verified.sub),
      'x-client-id': headerValue(verified.clientId),
      'x-scopes': verified.scopes.join(' '),
      'cache-control': 'no-store',
    };
    if (ctx.options.forwardAuth.forwardToken) headers['x-access-token'] = presented.token;
    return { status: 200, headers };
  } catch (err) {
    return refusal(err, challenge, presented, dpop);
  }
}

/** A refused token or proof as the resource server's 401/403 (or 503 when the store is unreachable). */
function refusal(
  err: unknown,
  challenge: ChallengeInput,
  presented: PresentedToken,
  dpop: ReturnType<typeof serverDpop>,
): ForwardAuthDecision {
  const scheme = challengeScheme(presented, err, dpop);
  const render = (input: ChallengeInput) => schemeChallenge(input, scheme);
  const unavailable = unavailableError(err);
  if (unavailable) {
    // Neither yes nor no: the revocation list or the keys could not be read.
    const d = json(503, unavailable.error, unavailable.description ?? 'temporarily unavailable');
    return { ...d, headers: { ...d.headers, ...unavailable.headers } };
  }
  if (err instanceof InsufficientScopeError) {
    const description = err.description ?? 'insufficient scope';
    return json(
      403,
      'insufficient_scope',
      description,
      render({ ...challenge, scopes: err.challengeScopes, error: 'insufficient_scope', description }),
    );
  }
  if (err instanceof DpopError) {
    const d = json(
      401,
      err.code,
      err.description,
      render({ ...challenge, error: err.code, description: err.description }),
    );
    return err.nonce ? { ...d, headers: { ...d.headers, 'dpop-nonce': err.nonce } } : d;
  }
  const description =
    err instanceof InvalidTokenError ? (err.description ?? 'invalid token') : 'token could not be verified';
  return json(
    401,
    'invalid_token',
    description,
    render({ ...challenge, error: 'invalid_token', description }),
  );
}

/**
 * ForwardAuth `GET`/`POST /verify` (Traefik `forwardAuth`, nginx
 * `auth_request`, Caddy `forward_auth`): the proxy asks whether the original
 * request may pass. The resource comes from `X-Forwarded-Proto/Host/Uri`;
 * scopes from `forwardAuth.scopes` plus `?scope=` on the verify URL. 200
 * carries `X-User-Id`, `X-User-Name`, `X-Client-Id`, `X-Scopes` for the proxy
 * to copy upstream (the token itself only with `forwardAuth.forwardToken`);
 * failures are the resource server's 401/403 with the RFC 9728 challenge. An
 * `X-Forwarded-Host` that is not a plain `host[:port]` (a path, userinfo,
 * spaces…) is refused with `400 invalid_request` before any token check.
 * Verification is cached per token; revocation is checked every time.
 *
 * Also `GET /jwks`: the public signing keys.
 */
export function verifyRoutes(ctx: ServerContext): Route[] {
  const r = resolver(ctx);
  const verify = async (request: Request, _c: ServerContext, { url }: { url: URL }): Promise<Response> => {
    const h = request.headers;
    const d = await decideForwardAuth(ctx, r, (n) => h.get(n) ?? undefined, url.searchParams.get('scope'), {
      host: url.host,
      proto: url.protocol.slice(0, -1),
    });
    return bodyResponse(d.body ?? null, { status: d.status, headers: d.headers });
  };
  const jwks = async () => publicJson(await flowServices(ctx).keys.jwks(), 300);
  return [
    { method: ['GET', 'POST'], path: `${ctx.issuerPath}/verify`, handler: verify },
    { method: 'GET', path: `${ctx.issuerPath}/jwks`, handler: jwks, cors: true },
  ];
}

/**
 * A node:http listener answering ForwardAuth from the request's headers alone: the same decision
 * as the `/verify` route, through the shared node edge with lazy requests (no WHATWG `Request` is
 * built), for proxies that send every request through it. Mount it on its own port or path (any
 * path works: only headers and `?scope=` are read); wait for `server.ready()` first.
 *
 * ```ts
 * http.createServer(forwardAuthNodeListener(server)).listen(9091, '127.0.0.1');
 * ```
 */
export function forwardAuthNodeListener(server: {
  context: ServerContext;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const ctx = server.context;
  const r = resolver(ctx);
  const issuer = new URL(ctx.issuer);
  const own = { host: issuer.host, proto: issuer.protocol.slice(0, -1) };
  const handler = acceptLazyRequests(async (request: Request): Promise<Response> => {
    const method = request.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
      return lazyResponse(null, {
        status: 405,
        headers: { allow: 'GET, POST', 'cache-control': 'no-store' },
      });
    }
    const url = request.url;
    const q = url.indexOf('?');
    const scope = q >= 0 ? new URLSearchParams(url.slice(q + 1)).get('scope') : null;
    const h = request.headers;
    const d = await decideForwardAuth(ctx, r, (n) => h.get(n) ?? undefined, scope, own);
    // Per request: no `Headers` or `Response` is built; the edge writes the decision as it is.
    return lazyResponse(d.body ?? null, { status: d.status, headers: d.headers });
  });
  return toNodeListener(handler);
}
