import type { ServiceEntry } from '../../services/registry.js';
import type { OwnRoute, RouteContext } from './context.js';

const PREFIX = '/.well-known/oauth-protected-resource';

/** RFC 9728 §2 DPoP members: the proof algorithms accepted, and whether only DPoP-bound tokens are. */
function dpopMembers(ctx: RouteContext) {
  const dpop = ctx.auth.dpop;
  if (!dpop) return {};
  return {
    dpop_signing_alg_values_supported: [...dpop.algorithms],
    ...(dpop.required ? { dpop_bound_access_tokens_required: true } : {}),
  };
}

/** The RFC 9728 protected-resource document of a service. */
function serviceDocument(ctx: RouteContext, e: ServiceEntry) {
  return {
    resource: e.route.resource,
    authorization_servers: [ctx.issuerBase],
    scopes_supported: e.route.scopes,
    bearer_methods_supported: ['header'],
    resource_name: e.route.title,
    ...dpopMembers(ctx),
  };
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
        return Promise.resolve(
          Response.json(serviceDocument(ctx, e), {
            headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
          }),
        );
      }
      if (pub.pathname !== adminPath) return Promise.resolve(undefined);
      return Promise.resolve(
        Response.json({
          resource: ctx.admin.resource,
          authorization_servers: [ctx.issuerBase],
          scopes_supported: ctx.admin.scopes,
          bearer_methods_supported: ['header'],
          resource_name: ctx.admin.name,
          ...dpopMembers(ctx),
        }),
      );
    },
  };
}
