import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeListener as edgeListener } from '@mcp-gateway/internal/node-edge';
import { realEdgeRequest, requestUrl } from '@mcp-gateway/internal/node-request';
import { writeResponse } from '@mcp-gateway/internal/node-response';

import type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';

/** A Fetch-API handler such as `server.fetch`: the node edge's one handler shape. */
export type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /**
   * Origin used to build request URLs (default: `http(s)://<Host header>`).
   * Only the path is used for routing.
   */
  origin?: string;
}

/**
 * Converts a node request to a web `Request`, streaming the body (none for GET, HEAD and bodyless
 * requests); `signal`, when given, is its `signal`.
 */
export function toWebRequest(req: IncomingMessage, origin: string, signal?: AbortSignal): Request {
  const url = requestUrl(req, origin) ?? new URL('/', 'http://localhost').href;
  return realEdgeRequest({
    req,
    url,
    body: undefined,
    signal: () => signal ?? new AbortController().signal,
  });
}

/**
 * Writes a web `Response` to a node response: a body known up front in one `res.end()` with its
 * `Content-Length`, any other body streamed with backpressure.
 */
export function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  return writeResponse(res, response);
}

/**
 * Adapts a Fetch-API handler to a node `(req, res)` listener for `http.createServer`, Express
 * (`app.use(prefix, listener)`: the mount prefix is kept) and anything else speaking node's
 * request/response: the shared node edge of every `@mcp-gateway` package. The handler gets
 * `info.remoteAddress` and `info.signal` (also `request.signal`: aborted when the client
 * disconnects before the response is finished). Mount it before body parsers: it reads the raw
 * request stream. A handler that fails answers 500 `server_error` without details.
 */
export function toNodeListener(
  handler: FetchHandler,
  opts: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return edgeListener(handler, opts.origin === undefined ? {} : { origin: opts.origin });
}
