import { metricsEndpoint } from '../../ops/metrics-endpoint.js';
import type { OwnRoute, RouteContext } from './context.js';

/** `/healthz`: the process answers. */
function healthz(): OwnRoute {
  return {
    kind: 'healthz',
    matches: (path) => path === '/healthz',
    serve: () => Promise.resolve(Response.json({ status: 'ok' })),
  };
}

/** `/readyz`: the store and every service backend are ready (503 with the failing checks otherwise). */
function readyz(ctx: RouteContext): OwnRoute {
  async function serve(): Promise<Response> {
    const checks: Record<string, boolean> = {};
    const [authOk, storeOk] = await Promise.all([
      ctx.auth.ready().catch(() => false),
      ctx.storeReady().catch(() => false),
    ]);
    checks.store = authOk && storeOk;
    await Promise.all(
      ctx.registry.list().map(async (e) => {
        checks[`service:${e.name}`] = await ctx.registry
          .backend(e)
          .ready()
          .catch(() => false);
      }),
    );
    const ok = Object.values(checks).every(Boolean);
    return Response.json(
      { status: ok ? 'ready' : 'not_ready', checks },
      { status: ok ? 200 : 503, headers: { 'cache-control': 'no-store' } },
    );
  }
  return { kind: 'readyz', matches: (path) => path === '/readyz', serve };
}

/** `/metrics`, unless the metrics have a listener of their own (`metrics.listen`). */
function metrics(ctx: RouteContext): OwnRoute[] {
  if (ctx.config.metrics.listen) return [];
  const page = metricsEndpoint(ctx.metrics, ctx.config.metrics.token);
  return [{ kind: 'metrics', matches: (path) => path === '/metrics', serve: (request) => page(request) }];
}

/**
 * Pages mounted on the gateway (e.g. the connected-apps page), by exact path; a key ending in
 * `/*` is the page of every path one segment below it (`/account/upstream/callback/*`).
 */
function pages(ctx: RouteContext): OwnRoute[] {
  const mounted = ctx.pages;
  if (!mounted) return [];
  const pageAt = (path: string | undefined) => {
    if (path === undefined) return undefined;
    if (Object.hasOwn(mounted, path)) return mounted[path];
    const slash = path.lastIndexOf('/');
    const below = `${path.slice(0, slash)}/*`;
    return slash > 0 && slash < path.length - 1 && Object.hasOwn(mounted, below) ? mounted[below] : undefined;
  };
  return [
    {
      kind: 'page',
      matches: (path) => pageAt(path) !== undefined,
      serve: (request, _pub, log, path, info) => pageAt(path)!(request, log, info),
    },
  ];
}

/** The operations endpoints: health, readiness, metrics, mounted pages. */
export function opsRoutes(ctx: RouteContext): OwnRoute[] {
  return [healthz(), readyz(ctx), ...metrics(ctx), ...pages(ctx)];
}
