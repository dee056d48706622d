import type http from 'node:http';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import { errorReply, tooLarge, type Reply, type RequestView, type ResponseObserver } from './exchange.js';
import type { HttpHandler } from './http-handler.js';
import { attachNodeResponse } from './sse.js';

/** What a caller of `handleNode` may add to or change on one request. */
export interface NodeRequestInit {
  /** The request body when the caller already read it (its size is still checked against maxBodyBytes); otherwise it is read from `req`. */
  body?: Uint8Array;
  /** Request headers (lower-case names) to set (string) or hide (null) before the transport sees them: e.g. the gateway removes `authorization` and sets its identity header. */
  headers?: Record<string, string | null>;
  /** Headers added to the response (e.g. CORS, x-request-id). */
  responseHeaders?: Record<string, string>;
  /**
   * `JSON.parse` of `body`, when the caller has parsed it already (the gateway
   * does, to count tool calls): the transport then does not parse it again.
   * It must be the parse of exactly `body`.
   */
  json?: unknown;
  /** Told of each response the child sends to a request of this POST (e.g. the gateway counts tool calls). */
  observer?: ResponseObserver;
}

/** The status {@link handleNodeRequest} reports for a client that left before its request was read (nothing is written). */
export const CLIENT_CLOSED = 499;

/**
 * The node:http path: `req` is read into a {@link RequestView} (node's
 * parsed headers, the body buffered up to `max`), the {@link Reply} written
 * to `res` directly: no `Headers`, `Request`, `Response` or web streams.
 * Resolves once the response has been handed to `res` (with
 * {@link CLIENT_CLOSED} when the client left mid-body). Never throws.
 */
export async function handleNodeRequest(
  handler: HttpHandler,
  max: number,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  init?: NodeRequestInit,
): Promise<{ status: number }> {
  let reply: Reply;
  let close = false;
  try {
    const method = req.method ?? 'GET';
    let body = init?.body;
    if (body !== undefined) {
      if (body.byteLength > max) reply = errorReply(tooLarge(max));
    } else if (method !== 'GET' && method !== 'HEAD') {
      const read = await readNodeBody(req, max);
      if (read === null) {
        reply = errorReply(tooLarge(max));
        // The rest of the body is not read: this connection cannot carry another request.
        close = true;
      } else body = read;
    }
    reply ??= await handler.handle(nodeView(req, method, body, init));
  } catch (err) {
    // The body stopped arriving because the client left: nobody to answer (nginx's 499).
    if (res.destroyed) return { status: CLIENT_CLOSED };
    reply = errorReply(
      new BridgeHttpError(
        400,
        JsonRpcCode.ServerError,
        `Bad Request: ${err instanceof Error ? err.message : 'unreadable'}`,
      ),
    );
  }
  try {
    writeReply(res, reply, init?.responseHeaders, close);
  } catch {
    // Headers node refuses (e.g. a caller's responseHeaders with a newline): answer 500 if still possible.
    reply.sse?.close();
    reply = errorReply(new BridgeHttpError(500, JsonRpcCode.InternalError, 'Internal error'));
    if (!res.headersSent) {
      try {
        writeReply(res, reply, undefined, close);
      } catch {
        res.destroy();
      }
    }
  }
  return { status: reply.status };
}

const EMPTY = Buffer.alloc(0);

function nodeView(
  req: http.IncomingMessage,
  method: string,
  body: Uint8Array | undefined,
  init: NodeRequestInit | undefined,
): RequestView {
  const headers = req.headers;
  const overrides = init?.headers;
  let header: (name: string) => string | null = (name) => {
    const v = headers[name];
    return v === undefined ? null : typeof v === 'string' ? v : v.join(', ');
  };
  if (overrides) {
    // Names are documented lower-case; a caller's other spelling is lowered once here.
    let set = overrides;
    for (const k in overrides) {
      if (k !== k.toLowerCase()) {
        set = {};
        for (const key in overrides) set[key.toLowerCase()] = overrides[key]!;
        break;
      }
    }
    const fromReq = header;
    header = (name) => (Object.hasOwn(set, name) ? set[name]! : fromReq(name));
  }
  return {
    method,
    url: `http://${header('host') ?? 'localhost'}${req.url ?? '/'}`,
    header,
    body,
    json: init?.json,
    observer: init?.observer,
  };
}

function writeReply(
  res: http.ServerResponse,
  reply: Reply,
  extra: Record<string, string> | undefined,
  close: boolean,
): void {
  const headers: Record<string, string> = extra ? { ...reply.headers, ...extra } : reply.headers;
  if (close) headers.connection = 'close';
  if (reply.sse) {
    res.writeHead(reply.status, headers);
    attachNodeResponse(reply.sse, res);
  } else if (reply.body) {
    headers['content-length'] = String(reply.body.byteLength);
    res.writeHead(reply.status, headers).end(reply.body);
  } else {
    res.writeHead(reply.status, headers).end();
  }
}

/**
 * The body of `req`, or `null` when it is over `max` bytes (the rest is
 * discarded). A body someone else has already read counts as empty.
 */
export function readNodeBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded) return resolve(EMPTY);
    const length = Number(req.headers['content-length'] ?? -1);
    if (length > max) {
      req.resume();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        return resolve(null);
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
  });
}
