import type http from 'node:http';
import { createNodeServer as edgeServer } from '@mcp-gateway/internal/node-edge';

import type { FetchHandler } from '@mcp-gateway/internal/fetch-handler';

/** The edge's one handler shape: a web `Request` and the edge's `RequestInfo` in, `Response` out. */
export type { FetchHandler, RequestInfo } from '@mcp-gateway/internal/fetch-handler';

/** A node:http server running a fetch handler, with graceful shutdown. */
export interface NodeServer {
  server: http.Server;
  /** Starts listening; resolves with the bound URL (`http://host:port`, IPv6 in brackets). */
  listen(port: number, host: string): Promise<string>;
  /** Requests being served right now. */
  readonly inFlight: number;
  /** Stops accepting connections, lets in-flight requests finish for up to `graceMs` (then cuts streams), closes. */
  drain(graceMs: number): Promise<void>;
}

/**
 * Bodies up to this size are read before the handler runs (far cheaper than a stream) and handed
 * over as `info.body`: one byte over the MCP body cap, so admission still sees what is too large.
 */
const BUFFERED_BODY_BYTES = 4 * 1024 * 1024 + 1;

/**
 * A node:http server running a fetch handler through the node edge every `@mcp-gateway` package
 * shares: the handler gets `(request, info)` with the peer address, a client-disconnect signal
 * and, for bodies up to 4 MiB, the body already read; event streams are written as they come;
 * `drain` lets in-flight requests finish on shutdown.
 */
export function createNodeServer(
  handler: FetchHandler,
  opts: { onError?: (err: unknown) => void } = {},
): NodeServer {
  return edgeServer(handler, {
    bufferBodyBytes: BUFFERED_BODY_BYTES,
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
}
