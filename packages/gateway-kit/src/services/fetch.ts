import { createFetchServer } from '@mcp-gateway/fetch-server';
import type { FetchServiceConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import type { BackendCall, ServiceBackend } from './backend.js';
import { forwardedRequest } from './forwarded-request.js';

/**
 * A `fetch` service: the built-in fetch server, in-process. The gateway has
 * already checked `Host` and `Origin`, so the server accepts any host.
 */
export function fetchBackend(
  name: string,
  config: FetchServiceConfig,
  log: Logger,
  mcpPath = '/mcp',
): ServiceBackend {
  const child = log.child({ service: name });
  const server = createFetchServer({
    allowHosts: config.allowHosts,
    ignoreRobotsTxt: config.ignoreRobotsTxt,
    ...(config.userAgent ? { userAgent: config.userAgent } : {}),
    ...(config.maxSize ? { maxBytes: config.maxSize } : {}),
    ...(config.timeout ? { timeoutMs: config.timeout * 1000 } : {}),
    path: mcpPath,
    allowedHosts: 'any',
    allowedOrigins: 'any',
    logger: {
      info: (msg, fields) => child.info(fields ?? {}, msg),
      warn: (msg, fields) => child.warn(fields ?? {}, msg),
      error: (msg, fields) => child.error(fields ?? {}, msg),
    },
  });
  return {
    kind: 'fetch',
    handle: (request: Request, _identity, call: BackendCall = {}) =>
      server(forwardedRequest(request, call.body)),
    async ready() {
      const res = await server(new Request('http://gateway.internal/healthz'));
      await res.body?.cancel();
      return res.ok;
    },
    close: () => server.close(),
  };
}
