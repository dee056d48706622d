import { errorResponse } from '../errors.js';
import { HostPolicy, misdirected } from '../http/allowed-hosts.js';
import type { NodeFastPath } from '../http/node.js';
import { publicAddress, publicRequest, type PublicRequest } from '../http/public-url.js';
import type { Logger } from '../ops/logger.js';
import { AccessLog, RequestContext } from './request-context.js';
import { adminRoute } from './routes/admin.js';
import { routeContext, type GatewayHandlerDeps, type OwnRoute } from './routes/context.js';
import { withHeaders } from './routes/headers.js';
import { McpRoute, type NodeBackend } from './routes/mcp.js';
import { metadataRoute } from './routes/metadata.js';
import { opsRoutes } from './routes/ops.js';
import { serverRoutes } from './routes/servers.js';

/**
 * The gateway's fetch handler, with the node:http fast path that
 * {@link createNodeServer} takes for MCP requests to stdio services.
 */
export type GatewayHandler = ((request: Request) => Promise<Response>) & { nodeFastPath: NodeFastPath };

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
  const mcp = new McpRoute(ctx, access);
  const own: OwnRoute[] = [...opsRoutes(ctx), ...serverRoutes(ctx), adminRoute(ctx), metadataRoute(ctx)];
  const hosts = new HostPolicy(
    config.issuer,
    [...config.allowedHosts, ...config.protectedResources.map((r) => new URL(r.resource).host)],
    // Host-routed services, including those added at runtime.
    () => registry.list().flatMap((e) => (e.route.host ? [e.route.host] : [])),
  );

  /** The route of a request and its answer. */
  async function route(request: Request, pub: PublicRequest, log: Logger): Promise<[string, Response]> {
    const path = ctx.local(pub);
    for (const r of own) {
      if (!r.matches(path, pub, request.method)) continue;
      const response = await r.serve(request, pub, log, path);
      if (response) return [r.kind, response];
    }
    const entry = registry.match(pub);
    if (entry) return [`service:${entry.name}`, await mcp.serve(entry, request, pub, log)];
    return ['auth', await ctx.auth.fetch(request)];
  }

  const handle = async function handle(request: Request): Promise<Response> {
    const t = new RequestContext(request.headers.get('x-request-id'), logger);
    const pub = publicRequest(request, config.trustProxy, ctx.issuer);
    let kind = 'unknown';
    let response: Response;
    try {
      if (!hosts.allows(pub.host) && !HostPolicy.exempt(ctx.local(pub)))
        [kind, response] = ['host', misdirected()];
      else [kind, response] = await route(request, pub, t.log);
    } catch (err) {
      response = errorResponse(err, t.log);
    }
    response = withHeaders(response, { 'x-request-id': t.reqId });
    access.finish(t, kind, response.status, request.method, pub);
    return response;
  };

  /** MCP requests to backends that answer on node:http (stdio), when no own route claims them. */
  const nodeFastPath: NodeFastPath = (req, res, body) => {
    const method = req.method;
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return undefined;
    // A body the adapter could not buffer (chunked, or over the cap) takes the streaming path.
    if (method === 'POST' && !body) return undefined;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    let pub: PublicRequest;
    try {
      pub = publicAddress(
        { url: req.url ?? '/', header, remoteAddress: req.socket.remoteAddress ?? '' },
        config.trustProxy,
        ctx.issuer,
      );
    } catch {
      return undefined; // a request line URL parsing refuses: the fetch path answers it
    }
    const path = ctx.local(pub);
    if (own.some((r) => r.matches(path, pub, method)) || !hosts.allows(pub.host)) return undefined;
    const entry = registry.match(pub);
    if (!entry) return undefined;
    const backend = registry.backend(entry);
    if (!backend.handleNode) return undefined;
    return mcp.serveNode(entry, backend as NodeBackend, req, res, body, header, pub);
  };

  return Object.assign(handle, { nodeFastPath });
}
