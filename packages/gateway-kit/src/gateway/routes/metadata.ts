import { protectedResourceDocument, type ProtectedResourceOptions } from '@mcp-gateway/oauth-dynamicclient';
import type { OwnRoute, RouteContext } from './context.js';

const PREFIX = '/.well-known/oauth-protected-resource';

/**
 * The RFC 9728 protected-resource document of one of the gateway's
 * resources, by the authorization server's builder, with the RFC 9728 §2
 * DPoP members when the gateway accepts DPoP.
 */
export function resourceDocument(
  ctx: RouteContext,
  resource: Omit<ProtectedResourceOptions, 'authorizationServers'>,
) {
  const dpop = ctx.auth.dpop;
  return protectedResourceDocument({
    ...resource,
    authorizationServers: [ctx.issuerBase],
    ...(dpop ? { dpop: { algorithms: dpop.algorithms, required: dpop.required } } : {}),
  }).document;
}

/**
 * RFC 9728 protected-resource metadata of each service (public, cacheable,
 * any origin) and of the admin API. Other paths under the well-known prefix
 * go on to the services and the authorization server.
 */
export function metadataRoute(ctx: RouteContext): OwnRoute {
  const adminPath = `${PREFIX}${new URL(ctx.admin.resource).pathname}`;
  return {
    kind: 'metadata',
    matches: (_path, pub) => pub.pathname.startsWith(`${PREFIX}/`),
    serve(request, pub) {
      const e = ctx.registry.matchMetadata(pub);
      if (e) {
        if (request.method === 'OPTIONS') return Promise.resolve(ctx.cors.preflight(request, pub.origin));
        const { resource, scopes, title: name } = e.route;
        return Promise.resolve(
          Response.json(resourceDocument(ctx, { resource, scopes, name }), {
            headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
          }),
        );
      }
      if (pub.pathname !== adminPath) return Promise.resolve(undefined);
      const { resource, scopes, name } = ctx.admin;
      return Promise.resolve(Response.json(resourceDocument(ctx, { resource, scopes, name })));
    },
  };
}
