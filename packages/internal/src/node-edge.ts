// The one node:http edge of every package (inlined into each at build time): node request → web
// `Request` + {@link RequestInfo}, the handler's `Response` → node response, graceful drain.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchHandler, RequestInfo } from './fetch-handler.js';
import { acceptsLazyRequests } from './lazy-request.js';
import {
  lazyEdgeRequest,
  originOf,
  realEdgeRequest,
  requestUrl,
  type EdgeRequestState,
  type NodeRequest,
} from './node-request.js';
import { writeResponse } from './node-response.js';

export type { FetchHandler, RequestInfo } from './fetch-handler.js';
export { writeResponse } from './node-response.js';

/** Options of {@link toNodeListener} and {@link createNodeServer}. */
export interface NodeEdgeOptions {
  /** Origin of request URLs (default `http(s)://<Host header>`); only the path is taken from the request. */
  origin?: string;
  /**
   * Bodies whose declared `Content-Length` is at most this many bytes are read before the
   * handler runs and handed to it as `info.body` (the `Request` carries the same bytes). Default 0:
   * every body is streamed.
   */
  bufferBodyBytes?: number;
  /**
   * Answers of the edge itself: 400 for a `Host` no URL accepts, 500 when the handler throws or
   * its response cannot be written. Default: a JSON `{ error, error_description }` body.
   */
  errorResponse?: (status: 400 | 500, message: string) => Response;
  /** Told of every handler failure the edge answered with 500. */
  onError?: (err: unknown) => void;
}

/** The edge's own error answer (see {@link NodeEdgeOptions.errorResponse}). */
export function defaultErrorResponse(status: 400 | 500, message: string): Response {
  const error = status === 400 ? 'invalid_request' : 'server_error';
  return new Response(JSON.stringify({ error, error_description: message }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

/**
 * The {@link RequestInfo} of one node request. A class, not a literal with a getter: a
 * per-request closure would keep the request's scope alive through a young GC.
 */
class NodeRequestInfo implements RequestInfo {
  readonly remoteAddress: string | undefined;
  readonly lateResponses = true;
  body: Uint8Array | undefined;
  private controller: AbortController | undefined;
  constructor(
    req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    this.remoteAddress = req.socket.remoteAddress;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const c = (this.controller = new AbortController());
      const res = this.res;
      const abort = () => c.abort(new Error('client closed the connection'));
      if (res.destroyed && !res.writableFinished) abort();
      else if (!res.writableFinished) res.once('close', () => res.writableFinished || abort());
    }
    return this.controller.signal;
  }
}

/**
 * Reads a body whose declared length is within `max` and calls `done` with it; returns false
 * (reading nothing) when it must be streamed. A callback, not a promise: the handler then starts
 * in the same tick as the body's last chunk.
 */
function readSmallBody(req: http.IncomingMessage, max: number, done: (err: unknown, body?: Buffer) => void) {
  if (max <= 0 || req.method === 'GET' || req.method === 'HEAD') return false;
  const declared = Number(req.headers['content-length']);
  if (!Number.isInteger(declared) || declared > max || req.headers['transfer-encoding']) return false;
  const chunks: Buffer[] = [];
  let settled = false;
  req.on('data', (c: Buffer) => chunks.push(c));
  req.once('end', () => {
    if (settled) return;
    settled = true;
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
  req.once('error', (err) => {
    if (settled) return;
    settled = true;
    done(err);
  });
  return true;
}

/** The edge's answer when it cannot hand a request on or write the handler's response. */
function fail(res: http.ServerResponse, response: Response, head: boolean): void {
  if (res.headersSent) res.destroy();
  else writeResponse(res, response, head).catch(() => res.destroy());
}

/**
 * Adapts a fetch handler to a node `(req, res)` listener for `http.createServer`, Express
 * (`app.use(prefix, listener)`: the mount prefix stays in the URL) and anything speaking node's
 * request/response. The handler gets `(request, info)`: `info.remoteAddress`, `info.signal`
 * (aborted when the client leaves before the response is complete; also `request.signal`) and,
 * with `bufferBodyBytes`, `info.body`. A handler that declared `acceptLazyRequests` gets lazy
 * requests. Mount it before body parsers: it reads the raw request stream.
 */
export function toNodeListener(handler: FetchHandler, options: NodeEdgeOptions = {}): http.RequestListener {
  const lazy = acceptsLazyRequests(handler);
  const errors = options.errorResponse ?? defaultErrorResponse;
  const buffer = options.bufferBodyBytes ?? 0;
  const serve = (req: NodeRequest, res: http.ServerResponse, body: Buffer | undefined) => {
    const head = req.method === 'HEAD';
    const origin = options.origin ?? originOf(req);
    const url = origin === undefined ? undefined : requestUrl(req, origin);
    if (url === undefined) return fail(res, errors(400, 'invalid Host header'), head);
    const info = new NodeRequestInfo(req, res);
    if (body) info.body = body;
    const state: EdgeRequestState = { req, url, body, signal: () => info.signal };
    const failed = (err: unknown) => {
      options.onError?.(err);
      fail(res, errors(500, 'internal error'), head);
    };
    let result: Response | Promise<Response>;
    try {
      result = handler(lazy ? lazyEdgeRequest(state) : realEdgeRequest(state), info);
    } catch (err) {
      return failed(err);
    }
    if (typeof (result as Promise<Response>).then !== 'function') {
      writeResponse(res, result as Response, head).catch(failed);
      return;
    }
    (result as Promise<Response>).then(
      (response) => writeResponse(res, response, head).catch(failed),
      failed,
    );
  };
  return (req, res) => {
    // A body that fails to arrive means the client went away mid-request: nobody to answer.
    if (!readSmallBody(req, buffer, (err, body) => (err ? res.destroy() : serve(req, res, body))))
      serve(req, res, undefined);
  };
}

/** A node:http server running a fetch handler, with graceful shutdown. */
export interface NodeServer {
  server: http.Server;
  /** Starts listening; resolves with the bound URL (`http://host:port`, IPv6 in brackets). */
  listen(port: number, host: string): Promise<string>;
  /** Requests being served right now. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs` (long-lived
   * streams are cut then), and closes the server.
   */
  drain(graceMs: number): Promise<void>;
}

/** Options of {@link createNodeServer}: the edge's, and the server's idle timeouts. */
export interface NodeServerOptions extends NodeEdgeOptions {
  /** Idle keep-alive connections are closed after this long (default 65 s: longer than the usual 60 s of load balancers). */
  keepAliveTimeoutMs?: number;
}

/**
 * A node:http server for `handler` (a fetch handler through {@link toNodeListener}, or a node
 * listener as is), counting requests in flight so {@link NodeServer.drain} can wait for them.
 */
export function createNodeServer(
  handler: FetchHandler | { listener: http.RequestListener },
  options: NodeServerOptions = {},
): NodeServer {
  const listener = typeof handler === 'function' ? toNodeListener(handler, options) : handler.listener;
  let inFlight = 0;
  let draining = false;
  const idle = new Set<() => void>();
  const server = http.createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const f of idle) f();
    });
    if (draining) res.setHeader('connection', 'close');
    listener(req, res);
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  // Node's rule: the headers timeout must be longer than the keep-alive timeout.
  server.headersTimeout = Math.max(server.headersTimeout, server.keepAliveTimeout + 1_000);
  return {
    server,
    get inFlight() {
      return inFlight;
    },
    listen: (port, host) => listenOn(server, port, host),
    async drain(graceMs) {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          idle.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Listens on `host:port`; resolves with `http://host:port` (IPv6 in brackets). */
export function listenOn(server: http.Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const { port: bound } = server.address() as AddressInfo;
      const bare = host.replace(/^\[|\]$/g, '');
      resolve(`http://${bare.includes(':') ? `[${bare}]` : bare}:${bound}`);
    });
  });
}
