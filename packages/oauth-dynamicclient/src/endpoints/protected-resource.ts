import type { Route, ServerContext } from '../context.js';
import { withoutOfflineAccess } from '../grants/offline-access.js';
import { publicJson } from '../http/responses.js';
import type { ResourceConfig } from '../resources.js';

/** RFC 9728 protected resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
  /** RFC 9728 §2 (RFC 9449 §5.1): DPoP proof algorithms the resource accepts. */
  dpop_signing_alg_values_supported?: string[];
  /** RFC 9728 §2: the resource accepts DPoP-bound tokens only. */
  dpop_bound_access_tokens_required?: boolean;
}

export type { ResourceConfig } from '../resources.js';

/**
 * Builds the RFC 9728 document for one resource served by `issuer`. `offline_access` is never
 * listed in `scopes_supported` (it asks the authorization server for a refresh token, it is no
 * scope of the resource: MCP 2026-07-28 says resources SHOULD NOT list it).
 */
export function protectedResourceMetadata(issuer: string, r: ResourceConfig): ProtectedResourceMetadata {
  const scopes = r.scopes && withoutOfflineAccess(r.scopes);
  return {
    resource: r.resource,
    authorization_servers: [issuer],
    ...(scopes ? { scopes_supported: scopes } : {}),
    bearer_methods_supported: ['header'],
    ...(r.name ? { resource_name: r.name } : {}),
  };
}

/**
 * Where RFC 9728 §3.1 puts a resource's metadata: the well-known name inserted
 * between the host and the resource's path.
 * `https://host/mcp` → `https://host/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * A route per resource (`ctx.resources` now) at its RFC 9728 location on
 * this host. Resources on other hosts are served too (by path); when two
 * share a path, the one whose origin matches the request wins.
 */
export function protectedResourceRoutes(ctx: ServerContext): Route[] {
  const byPath = new Map<string, ResourceConfig[]>();
  for (const r of ctx.resources.list) {
    const path = new URL(protectedResourceMetadataUrl(r.resource)).pathname;
    byPath.set(path, [...(byPath.get(path) ?? []), r]);
  }
  return [...byPath].map(([path, candidates]) => ({
    method: 'GET',
    path,
    cors: true,
    handler: async (_request, _ctx, { url }) => {
      const r = candidates.find((c) => new URL(c.resource).origin === url.origin) ?? candidates[0]!;
      return publicJson(protectedResourceMetadata(ctx.issuer, r), ctx.options.metadataMaxAgeSeconds);
    },
  }));
}

/**
 * {@link protectedResourceRoutes} that follow `ctx.resources`: the same array
 * until the resources change, then the routes of the new set.
 */
export function liveProtectedResourceRoutes(ctx: ServerContext): () => readonly Route[] {
  let seen: readonly ResourceConfig[] | undefined;
  let routes: Route[] = [];
  return () => {
    if (ctx.resources.list !== seen) {
      seen = ctx.resources.list;
      routes = protectedResourceRoutes(ctx);
    }
    return routes;
  };
}
