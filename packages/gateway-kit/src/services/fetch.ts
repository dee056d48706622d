import { createFetchServer } from '@mcp-gateway/fetch-server';
import type { FetchServiceConfig } from '../config/schema.js';
import { childLogger } from '@mcp-gateway/internal/log';
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
 * and the tool's outgoing request is a child span ({@link fetchSpans}).
 */
export function fetchBackend(
  name: string,
  config: FetchServiceConfig,
  log: Logger,
  mcpPath = '/mcp',
  telemetry?: Telemetry,
): ServiceBackend {
  const server = createFetchServer({
    allowHosts: config.allowHosts,
    ignoreRobotsTxt: config.ignoreRobotsTxt,
    ...(config.userAgent ? { userAgent: config.userAgent } : {}),
    ...(config.maxSize ? { maxBytes: config.maxSize } : {}),
    ...(config.timeout ? { timeoutMs: config.timeout * 1000 } : {}),
    path: mcpPath,
    allowedHosts: 'any',
    allowedOrigins: 'any',
    logger: childLogger(log, { service: name }),
    ...(telemetry?.enabled ? { observeFetch: fetchSpans(telemetry, name) } : {}),
  });
  return {
    kind: 'fetch',
    handle: (request: Request, _identity, call: BackendCall = {}) => {
      const { trace, json } = call;
      if (trace?.sampled && json !== undefined) {
        return server(forwardedRequest(request, JSON.stringify(withTraceMeta(json, trace.context)), true));
      }
      return server(forwardedRequest(request, call.body));
    },
    async ready() {
      const res = await server(new Request('http://gateway.internal/healthz'));
      await res.body?.cancel();
      return res.ok;
    },
    close: () => server.close(),
  };
}
