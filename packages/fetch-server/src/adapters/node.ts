import type { RequestListener } from 'node:http';
import { toNodeListener as edgeListener } from '@mcp-gateway/internal/node-edge';

/** A web fetch handler. */
export type WebHandler = (request: Request) => Response | Promise<Response>;

/** The edge's own answers as JSON-RPC errors: 400 invalid request, 500 internal error. */
function jsonRpcError(status: 400 | 500, message: string): Response {
  const error =
    status === 400
      ? { code: -32600, message: `Bad Request: ${message}` }
      : { code: -32603, message: 'Internal server error' };
  return Response.json({ jsonrpc: '2.0', error, id: null }, { status });
}

/**
 * Adapts a web handler to node:http (the shared node edge of every `@mcp-gateway` package). The
 * request's `signal` aborts when the client disconnects; response bodies (SSE included) are
 * streamed with back-pressure and cancelled if the client goes away. A `Host` header that cannot
 * form a URL is refused with 400 before any handler runs.
 */
export function toNodeListener(handler: WebHandler): RequestListener {
  return edgeListener(handler, { errorResponse: jsonRpcError });
}
