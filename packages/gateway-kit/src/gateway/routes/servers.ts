import { parseAuthorization } from '@mcp-gateway/oauth-dynamicclient';
import { mayUse } from '../../config/subjects.js';
import { jsonError } from '../../errors.js';
import { federatedListings, federatedResources } from '../../federation/resource.js';
import { addressedUrl, type PublicRequest } from '../../http/public-url.js';
import type { Identity } from '../../identity.js';
import { openApiDocument } from '../../ops/openapi.js';
import type { OwnRoute, RouteContext } from './context.js';

/** The `aud` values of a JWT access token, read without verifying (to pick the resource to verify it for). */
function audiences(token: string): string[] {
  try {
    const { aud } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      aud?: unknown;
    };
    return (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
  } catch {
    return [];
  }
}

/**
 * Who is asking, for the lists that hide restricted services: no token is an
 * anonymous caller (`identity` undefined, who sees only services without a
 * `users` list); a token valid for any service or the admin API names the
 * user; any other token is refused with 401. A `DPoP` presentation is checked
 * once (its proof is single-use), for the resource its `aud` names.
 */
async function caller(
  ctx: RouteContext,
  request: Request,
  pub: PublicRequest,
): Promise<{ identity?: Identity } | { refusal: Response }> {
  const authorization = request.headers.get('authorization');
  const resources = [
    ...ctx.registry.list().map((e) => e.route.resource),
    ...federatedResources(ctx.registry, ctx.config.issuer, ctx.config.federated).map((r) => r.resource),
    ctx.admin.resource,
  ];
  const refusal = {
    refusal: jsonError(401, 'invalid_token', 'the access token is not valid for this gateway'),
  };
  const presented = parseAuthorization(authorization);
  if (!authorization || !presented) return {};
  // A DPoP proof is single-use: it is checked once, for the resource the token's `aud` names.
  const candidates =
    presented.scheme === 'DPoP'
      ? audiences(presented.token)
          .filter((a) => resources.includes(a))
          .slice(0, 1)
      : resources;
  const http = { method: request.method, url: addressedUrl(pub), dpop: request.headers.get('dpop') };
  for (const resource of candidates) {
    try {
      // The same check as every MCP request: `dpop.required` and DPoP-bound tokens (`cnf.jkt`) hold here too.
      return { identity: await ctx.authenticate(authorization, resource, [], http) };
    } catch {
      // not for this resource
    }
  }
  return refusal;
}

/** The services a caller may use (see {@link caller}). */
const visibleTo = (ctx: RouteContext, identity: Identity | undefined) =>
  ctx.registry.list().filter((e) => mayUse(e.config.users, identity?.sub));

/** The federated endpoints a caller may use: those with a member it may use. */
const federatedVisibleTo = (ctx: RouteContext, identity: Identity | undefined) =>
  federatedListings(ctx.registry, ctx.config.issuer, ctx.config.federated, identity?.sub);

/**
 * `GET /servers`: the services the caller may use, then the federated
 * endpoints, with their URLs and RFC 9728 documents.
 */
function servers(ctx: RouteContext): OwnRoute {
  async function serve(request: Request, pub: PublicRequest): Promise<Response> {
    const who = await caller(ctx, request, pub);
    if ('refusal' in who) return who.refusal;
    const list = visibleTo(ctx, who.identity).map((e) => ({
      name: e.name,
      title: e.route.title,
      type: e.config.type,
      url: e.route.resource,
      resource_metadata: e.route.metadataUrl,
      scopes: e.route.scopes,
    }));
    const all = [...list, ...federatedVisibleTo(ctx, who.identity)];
    return Response.json({ servers: all }, { headers: { 'cache-control': 'no-store' } });
  }
  return { kind: 'servers', matches: (path, _pub, method) => path === '/servers' && method === 'GET', serve };
}

/** `/openapi.json`: the gateway's HTTP API, with the services the caller may use. */
function openApi(ctx: RouteContext): OwnRoute {
  const { config } = ctx;
  async function serve(request: Request, pub: PublicRequest): Promise<Response> {
    const who = await caller(ctx, request, pub);
    if ('refusal' in who) return who.refusal;
    const options = {
      metrics: !config.metrics.listen,
      localLogin: config.idp.type === 'local',
      registration: config.authorization.dynamicRegistration,
      dpop: !ctx.auth.dpop
        ? ('off' as const)
        : ctx.auth.dpop.required
          ? ('required' as const)
          : ('allowed' as const),
    };
    const federated = federatedVisibleTo(ctx, who.identity).map((f) => ({
      name: f.name,
      config: { type: f.type },
      route: { resource: f.url, metadataUrl: f.resource_metadata, scopes: f.scopes },
    }));
    const listed = [...visibleTo(ctx, who.identity), ...federated];
    return Response.json(openApiDocument(config.issuer, listed, ctx.version, options), {
      headers: { 'cache-control': 'no-store' },
    });
  }
  return { kind: 'openapi', matches: (path) => path === '/openapi.json', serve };
}

/** The service directory: `/servers` and `/openapi.json`. */
export function serverRoutes(ctx: RouteContext): OwnRoute[] {
  return [openApi(ctx), servers(ctx)];
}
