import type { Route, ServerContext } from '../context.js';
import { publicJson } from '../http/responses.js';
import { canonicalResource } from '../resource/canonical.js';
import { bearerErrorResponse } from '../resource/challenge.js';
import { readBearer } from '../resource/require-bearer.js';
import { flowServices } from './flow-services.js';
import { protectedResourceMetadataUrl } from './protected-resource.js';

/** Header-safe value: printable ASCII as is, anything else percent-encoded (UTF-8). */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/**
 * The configured resource a forwarded request belongs to: the one whose
 * canonical URL is the longest prefix (at a path-segment boundary) of
 * `X-Forwarded-Proto://X-Forwarded-Host X-Forwarded-Uri`.
 */
export function forwardedResource(ctx: ServerContext, request: Request): string | undefined {
  const h = request.headers;
  const own = new URL(request.url);
  const proto = (h.get('x-forwarded-proto') ?? own.protocol.slice(0, -1)).split(',')[0]!.trim();
  const host = (h.get('x-forwarded-host') ?? h.get('host') ?? own.host).split(',')[0]!.trim();
  const uri = h.get('x-forwarded-uri') ?? '/';
  let target: URL;
  try {
    target = new URL(uri.startsWith('/') ? uri : `/${uri}`, `${proto}://${host}`);
  } catch {
    return undefined;
  }
  const path = target.pathname.replace(/\/+$/, '');
  const here = `${target.protocol}//${target.host}${path}`;
  let best: { resource: string; length: number } | undefined;
  for (const r of ctx.options.resources) {
    const c = canonicalResource(r.resource);
    if (!c) continue;
    if ((here === c || here.startsWith(`${c}/`)) && (!best || c.length > best.length))
      best = { resource: r.resource, length: c.length };
  }
  return best?.resource;
}

/**
 * ForwardAuth `GET`/`POST /verify` (Traefik `forwardAuth`, nginx
 * `auth_request`, Caddy `forward_auth`): the proxy asks whether the original
 * request may pass. The resource comes from `X-Forwarded-Proto/Host/Uri`;
 * scopes from `forwardAuth.scopes` plus `?scope=` on the verify URL. 200
 * carries `X-User-Id`, `X-User-Name`, `X-Client-Id`, `X-Scopes` for the proxy
 * to copy upstream (the token itself only with `forwardAuth.forwardToken`);
 * failures are the resource server's 401/403 with the RFC 9728 challenge.
 * Verification is cached per token; revocation is checked every time.
 *
 * Also `GET /jwks`: the public signing keys.
 */
export function verifyRoutes(ctx: ServerContext): Route[] {
  const fixedScopes = ctx.options.forwardAuth.scopes ?? [];
  const verify = async (request: Request, _c: ServerContext, { url }: { url: URL }): Promise<Response> => {
    const flows = flowServices(ctx);
    const extra = url.searchParams.get('scope')?.split(' ').filter(Boolean) ?? [];
    const scopes = [...new Set([...fixedScopes, ...extra])];
    const resource = forwardedResource(ctx, request);
    if (!resource) {
      return new Response(
        JSON.stringify({ error: 'invalid_target', error_description: 'no configured resource at this URL' }),
        {
          status: 403,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        },
      );
    }
    const challenge = {
      resourceMetadata: protectedResourceMetadataUrl(resource),
      ...(scopes.length ? { scopes } : {}),
    };
    const token = readBearer(request);
    if (!token)
      return bearerErrorResponse(
        request.headers.has('authorization') ? new Error('malformed') : undefined,
        challenge,
      );
    try {
      const verified = await flows.verifier.verify(token, { resource, scopes });
      const headers: Record<string, string> = {
        'x-user-id': headerValue(verified.sub),
        'x-user-name': headerValue(verified.login ?? verified.sub),
        'x-client-id': headerValue(verified.clientId),
        'x-scopes': verified.scopes.join(' '),
        'cache-control': 'no-store',
      };
      if (ctx.options.forwardAuth.forwardToken) headers['x-access-token'] = token;
      return new Response(null, { status: 200, headers });
    } catch (err) {
      return bearerErrorResponse(err, challenge);
    }
  };
  const jwks = async () => publicJson(await flowServices(ctx).keys.jwks(), 300);
  return [
    { method: ['GET', 'POST'], path: `${ctx.issuerPath}/verify`, handler: verify },
    { method: 'GET', path: `${ctx.issuerPath}/jwks`, handler: jwks, cors: true },
  ];
}
