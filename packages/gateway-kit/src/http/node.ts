import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Fetch-API handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Facts about a request that only the socket knows. */
export interface ConnectionInfo {
  /** Peer address of the TCP connection. */
  remoteAddress: string;
  /** Aborted when the client goes away before the response is complete (created on first use). */
  readonly closed: AbortSignal;
  /** The request body when the adapter read it whole (so it can be looked at without consuming the request). */
  body?: Buffer;
}

const infos = new WeakMap<Request, ConnectionInfo>();

/** The socket facts of a request that came through {@link createNodeServer}. */
export function connectionInfo(request: Request): ConnectionInfo | undefined {
  return infos.get(request);
}

/** Makes `copy` share the connection facts of the request it was made from. */
export function connectionInfoAlias(copy: Request, info: ConnectionInfo): void {
  infos.set(copy, info);
}

/** The signal of a client disconnect: the node adapter's when present, else the request's own. */
export function clientSignal(request: Request): AbortSignal {
  return infos.get(request)?.closed ?? request.signal;
}

/** A node:http server running a fetch handler, with graceful shutdown. */
export interface NodeServer {
  server: http.Server;
  /** Starts listening; resolves with the bound URL (`http://host:port`). */
  listen(port: number, host: string): Promise<string>;
  /** Requests being served right now. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to
   * `graceMs` (long-lived SSE streams are ended then), and closes the server.
   */
  drain(graceMs: number): Promise<void>;
}

/**
 * The {@link ConnectionInfo} of a node:http request. Per request: a class, not
 * an object literal with a getter, because a per-request getter closure holds
 * the request's scope and keeps every request's objects alive through a young GC.
 */
class NodeConnectionInfo implements ConnectionInfo {
  readonly remoteAddress: string;
  body?: Buffer;
  private controller: AbortController | undefined;
  constructor(
    req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    this.remoteAddress = req.socket.remoteAddress ?? '';
  }

  get closed(): AbortSignal {
    if (!this.controller) {
      const c = new AbortController();
      this.controller = c;
      const res = this.res;
      if (res.destroyed && !res.writableFinished) c.abort(new Error('client closed the connection'));
      else
        res.once('close', () => res.writableFinished || c.abort(new Error('client closed the connection')));
    }
    return this.controller.signal;
  }
}

/** Bodies up to this size are read into memory before the handler runs (far cheaper than a stream). */
const BUFFERED_BODY_BYTES = 4 * 1024 * 1024 + 1;

/**
 * Reads a body whose declared length is within the cap and calls `done` with
 * it; returns false (and reads nothing) when it must be streamed instead.
 * A callback, not a promise: this runs on every request, and the fast path
 * then starts in the same tick as the body's last chunk.
 */
function readSmallBody(req: http.IncomingMessage, done: (err: unknown, body?: Buffer) => void): boolean {
  const declared = Number(req.headers['content-length']);
  if (!Number.isInteger(declared) || declared > BUFFERED_BODY_BYTES || req.headers['transfer-encoding']) {
    return false;
  }
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

function toRequest(req: http.IncomingMessage, body?: Buffer): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? 'localhost';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    if (body) {
      init.body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength) as Uint8Array<ArrayBuffer>;
    } else {
      init.body = req as unknown as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${host}`);
  } catch {
    url = new URL(req.url ?? '/', 'http://invalid-host');
  }
  return new Request(url, init);
}

/** How long an event stream may wait for its first event before its headers are sent alone. */
const HEADER_FLUSH_MS = 10;

/** Writes a fetch `Response` to a node:http response (streams event streams, buffers the rest). */
export async function writeResponse(res: http.ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  const body = response.body;
  if (!body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!String(headers['content-type'] ?? '').startsWith('text/event-stream')) {
    // A finite body: read it whole and send it with its length, in one write.
    const buf = Buffer.from(await response.arrayBuffer());
    headers['content-length'] = String(buf.length);
    res.writeHead(response.status, headers).end(buf);
    return;
  }
  res.writeHead(response.status, headers);
  // Headers leave with the first event when it is ready at once (one packet, not two);
  // otherwise shortly after, so the client sees the stream open.
  let flushTimer: NodeJS.Timeout | undefined = setTimeout(() => res.flushHeaders(), HEADER_FLUSH_MS);
  const reader = body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  const uncork = () => res.uncork();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
      }
      if (done) break;
      // Events queued in the same tick (an answer and the end of the stream) leave in one write.
      res.cork();
      process.nextTick(uncork);
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
    }
  } catch {
    // the client went away or the body failed; end what we have
  }
  clearTimeout(flushTimer);
  res.end();
}

/**
 * Serves some requests straight on node:http, before any fetch `Request` is
 * built (the gateway's MCP hot path). Returns `undefined`, synchronously,
 * for a request it leaves to the fetch handler; otherwise a promise that
 * settles once the response has been handed to `res`.
 */
export type NodeFastPath = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer | undefined,
) => Promise<void> | undefined;

/** Wraps a fetch handler in node:http: streaming bodies, client-abort signals, drain on shutdown. */
export function createNodeServer(
  handler: FetchHandler,
  opts: { onError?: (err: unknown) => void; fastPath?: NodeFastPath } = {},
): NodeServer {
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
    const fail = (err: unknown) => {
      opts.onError?.(err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: 'internal error' }));
    };
    const serve = (body: Buffer | undefined) => {
      let served: Promise<void> | undefined;
      try {
        served = opts.fastPath?.(req, res, body) ?? viaFetch(req, res, body);
      } catch (err) {
        fail(err);
        return;
      }
      served.catch(fail);
    };
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    // A body that fails to arrive means the client went away mid-request: nobody to answer, nothing to log.
    if (!hasBody || !readSmallBody(req, (err, body) => (err ? res.destroy() : serve(body)))) serve(undefined);
  });

  /** The general path: a fetch `Request` for the handler, its `Response` written back. */
  async function viaFetch(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | undefined) {
    let request: Request;
    try {
      request = toRequest(req, body);
    } catch {
      return writeResponse(
        res,
        new Response('bad request', { status: 400, headers: { 'content-type': 'text/plain' } }),
      );
    }
    const info = new NodeConnectionInfo(req, res);
    if (body) info.body = body;
    infos.set(request, info);
    return writeResponse(res, await handler(request));
  }

  server.keepAliveTimeout = 5_000;
  return {
    server,
    get inFlight() {
      return inFlight;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${a.port}`);
        });
      });
    },
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
