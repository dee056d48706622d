import { acceptLazyRequests } from '@mcp-gateway/internal/lazy-request';
import { whenSettled } from '@mcp-gateway/internal/lazy-response';
import { errorResponse } from '../errors.js';
import { requestEra } from '../protocol-version.js';
import { HostPolicy, misdirected } from '../http/allowed-hosts.js';
import type { RequestInfo } from '../http/node.js';
import { publicRequest, type PublicRequest } from '../http/public-url.js';
import type { Logger } from '../ops/logger.js';
import { AccessLog, RequestContext } from './request-context.js';
import { adminRoute } from './routes/admin.js';
import { routeContext, type GatewayHandlerDeps, type OwnRoute } from './routes/context.js';
import { withHeaders } from './routes/headers.js';
import { federatedRoutes } from './routes/federated.js';
import { McpRoute } from './routes/mcp.js';
import { metadataRoute } from './routes/metadata.js';
import { opsRoutes } from './routes/ops.js';
import { serverRoutes } from './routes/servers.js';

/** The gateway's fetch handler: a web `Request` and the edge's socket facts in, `Response` out. */
export type GatewayHandler = (request: Request, info?: RequestInfo) => Promise<Response>;

/**
 * The gateway's request handler. In order: the routes it answers itself
 * (operations endpoints and pages, the service directory, the admin API,
 * RFC 9728 documents), then the MCP services (each behind its own token
 * check), then everything else to the authorization server. Every error no
 * route answered becomes a response in `errorResponse`.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps): GatewayHandler {
  const ctx = routeContext(deps);
  const { config, registry, logger } = ctx;
  const access = new AccessLog(logger, deps.metrics, deps.accessLogLevel ?? 'info');
  const mcp = new McpRoute(ctx);
  const own: OwnRoute[] = [
    ...opsRoutes(ctx),
    ...serverRoutes(ctx),
    adminRoute(ctx),
    metadataRoute(ctx),
    ...federatedRoutes(ctx, deps.federationHooks),
  ];
  const hosts = new HostPolicy(
    config.issuer,
    [...config.allowedHosts, ...config.protectedResources.map((r) => new URL(r.resource).host)],
    // Host-routed services, including those added at runtime.
    () => registry.list().flatMap((e) => (e.route.host ? [e.route.host] : [])),
  );

  /** The route of a request and its answer. */
  async function route(
    request: Request,
    info: RequestInfo,
    pub: PublicRequest,
    log: Logger,
  ): Promise<[string, Response]> {
    const path = ctx.local(pub);
    for (const r of own) {
      if (!r.matches(path, pub, request.method)) continue;
      const response = await r.serve(request, pub, log, path, info);
      if (response) return [r.kind, response];
    }
    const entry = registry.match(pub);
    if (entry) return [`service:${entry.name}`, await mcp.serve(entry, request, info, pub, log)];
    return ['auth', await ctx.auth.fetch(request, info)];
  }

  // Lazy requests from the node edge are safe here: what hands a request to code we do not
  // control (the authorization server, `forwardedRequest`) makes it real first or accepts them.
  return acceptLazyRequests(async function handle(
    request: Request,
    info: RequestInfo = {},
  ): Promise<Response> {
    const t = new RequestContext(request.headers.get('x-request-id'), logger);
    const pub = publicRequest(request, info.remoteAddress, config.trustProxy, ctx.issuer);
    let kind = 'unknown';
    let response: Response;
    try {
      if (!hosts.allows(pub.host) && !HostPolicy.exempt(ctx.local(pub)))
        [kind, response] = ['host', misdirected()];
      else [kind, response] = await route(request, info, pub, t);
    } catch (err) {
      // A 2026-07-28 request says so in its headers (the body may be unread): its era's codes.
      const h = request.headers;
      const era = requestEra(undefined, h.get('mcp-protocol-version'), h.get('mcp-session-id'));
      response = errorResponse(err, t, era === 'modern');
    }
    response = withHeaders(response, { 'x-request-id': t.reqId });
    // A late answer (a 2026 call still at its child) is logged and counted when it settles.
    whenSettled(response, (status) => access.finish(t, kind, status, request.method, pub));
    return response;
  });
}
