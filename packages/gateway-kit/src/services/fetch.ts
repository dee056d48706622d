import type { FetchServerHandler, FetchServerOptions } from '@mcp-gateway/fetch-server';
import type { FetchServiceConfig } from '../config/schema.js';
import { childLogger } from '@mcp-gateway/internal/log';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import { fetchSpans } from '../telemetry/fetch-span.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { withTraceMeta } from '../telemetry/trace-meta.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';

/**
 * A `fetch` service: the built-in fetch server, in-process. The gateway has
 * already checked `Host` and `Origin`, so the server accepts any host. With
 * telemetry on, a sampled request carries its span's context in `params._meta`
 * and the tool's outgoing request is a child span ({@link fetchSpans}). Each
 * request names its user (`identity.sub`) as the fetch server's caller, so
 * `maxConcurrentFetchesPerUser` bounds one user's fetches across all their
 * sessions and requests.
 *
 * The fetch server (with its HTML parser and the MCP SDK, some 400 files) is
 * loaded at the service's first request or readiness check, so CLI commands
 * and gateways without traffic for it never load it.
 */
export function fetchBackend(
  name: string,
  config: FetchServiceConfig,
  log: Logger,
  mcpPath = '/mcp',
  telemetry?: Telemetry,
): ServiceBackend {
  const options: FetchServerOptions = {
    allowHosts: config.allowHosts,
    ignoreRobotsTxt: config.ignoreRobotsTxt,
    ...(config.userAgent ? { userAgent: config.userAgent } : {}),
    ...(config.maxSize ? { maxBytes: config.maxSize } : {}),
    ...(config.timeout ? { timeoutMs: config.timeout * 1000 } : {}),
    ...(config.maxConcurrentFetches ? { maxConcurrentFetches: config.maxConcurrentFetches } : {}),
    ...(config.maxConcurrentFetchesPerUser
      ? { maxConcurrentFetchesPerCaller: config.maxConcurrentFetchesPerUser }
      : {}),
    ...(config.conversionTimeout
      ? { conversionTimeoutMs: Math.max(1, Math.round(config.conversionTimeout * 1000)) }
      : {}),
    path: mcpPath,
    allowedHosts: 'any',
    allowedOrigins: 'any',
    logger: childLogger(log, { service: name }),
    ...(telemetry?.enabled ? { observeFetch: fetchSpans(telemetry, name) } : {}),
  };
  let loading: Promise<FetchServerHandler> | undefined;
  let server: FetchServerHandler | undefined;
  const load = () =>
    (loading ??= import('@mcp-gateway/fetch-server').then(({ createFetchServer }) => {
      server = createFetchServer(options);
      return server;
    }));
  const serve = (s: FetchServerHandler, request: Request, identity: Identity, call: BackendCall) => {
    const { trace, json } = call;
    const info = { caller: identity.sub };
    if (trace?.sampled && json !== undefined) {
      return s(forwardedRequest(request, JSON.stringify(withTraceMeta(json, trace.context)), true), info);
    }
    return s(forwardedRequest(request, call.body), info);
  };
  return {
    kind: 'fetch',
    handle: (request: Request, identity: Identity, call: BackendCall = {}) =>
      server ? serve(server, request, identity, call) : load().then((s) => serve(s, request, identity, call)),
    async ready() {
      const res = await (await load())(new Request('http://gateway.internal/healthz'));
      await res.body?.cancel();
      return res.ok;
    },
    close: async () => {
      // A server still loading is closed once it is made; one that failed to load has nothing to close.
      const s = await loading?.catch(() => undefined);
      await s?.close();
    },
  };
}
