import type { RequestListener } from 'node:http';
import type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';
import { jsonRpcEdgeError } from '@mcp-gateway/internal/jsonrpc-error';
import { toNodeListener as edgeListener } from '@mcp-gateway/internal/node-edge';

/** A web fetch handler: the node edge's one handler shape, `(request, info)` (`info` may be ignored). */
export type WebHandler = FetchHandler;

/**
 * Adapts a web handler to node:http (the shared node edge of every `@mcp-gateway` package). The
 * request's `signal` aborts when the client disconnects; response bodies (SSE included) are
 * streamed with back-pressure and cancelled if the client goes away. A `Host` header that cannot
 * form a URL is refused with 400 before any handler runs.
 */
export function toNodeListener(handler: WebHandler): RequestListener {
  return edgeListener(handler, { errorResponse: jsonRpcEdgeError });
}
