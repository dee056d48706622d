import { jsonRpcErrorParts } from '@mcp-gateway/internal/jsonrpc-error';
import type { LateBody } from '@mcp-gateway/internal/lazy-response';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import type { SseSink } from './sse.js';

/**
 * Who is calling, told by an embedder that has already authenticated the request (the gateway):
 * used instead of the `identity` resolver and `envFromHeaders`.
 */
export interface BridgeCaller {
  /** The caller's immutable id: sessions answer only it; 2026 requests use its pool. */
  identity: string;
  /** Variables for a child this request starts (e.g. `MCP_USER_ID`). */
  env?: Record<string, string>;
}

/**
 * One HTTP request as the bridge reads it: what `bridge.fetch` makes of a web `Request`, or
 * what an embedder builds for {@link StdioBridge.handle}.
 */
export interface RequestView {
  method: string;
  /** Absolute URL. */
  url: string;
  /** A request header by lower-case name; duplicates joined with `, `; `null` when absent. */
  header(name: string): string | null;
  /** The whole request body, if any (the handler checks it against the size cap). */
  body: Uint8Array | undefined;
  /**
   * Reads the body when it was not read up front (the fetch path reads it
   * only when a POST gets that far, after the header checks, as it always has).
   */
  loadBody?: () => Promise<Uint8Array | undefined>;
  /**
   * `JSON.parse` of exactly `body` when the caller parsed it already (the bridge then does not
   * parse it again); with no `body` (and no `loadBody`), the message itself, from an in-process
   * caller that never serialised it.
   */
  json?: unknown;
  /** Told of each response the child sends to a request of this POST (e.g. the gateway counts tool calls). */
  observer?: ResponseObserver;
  /** The authenticated caller, when an embedder vouches for it (see {@link BridgeCaller}). */
  caller?: BridgeCaller;
  /**
   * The client's disconnect signal, asked for only when the request must wait (a 2026-07-28
   * request queued for one of its user's busy children): a request whose client is gone leaves
   * the queue at once instead of taking a child later.
   */
  clientGone?: () => AbortSignal | undefined;
  /**
   * The caller writes late replies ({@link Reply.late}; the node edge does): a 2026-07-28 call
   * forwarded to a child is then answered at once with a reply that settles when the child
   * answers, so everything between the bridge and the socket runs while the child works.
   */
  lateAnswer?: boolean;
}

/**
 * Watches the answers to one POST: {@link onResponse} gets each JSON-RPC
 * response the child sends to one of its requests, as the bridge parsed it to
 * route it, so a caller learns outcomes (`result` or `error`) without reading
 * the reply's bytes. Called per response on the hot path, after the response
 * has been handed to its stream: keep it cheap. It must not change the
 * message; what it throws is logged and otherwise ignored.
 */
export interface ResponseObserver {
  onResponse(response: Readonly<Record<string, unknown>>): void;
}

/**
 * The handler's answer: a finite body (text is sent as UTF-8), an SSE stream, neither, or (only
 * when the request asked for {@link RequestView.lateAnswer}) a late answer whose status, headers
 * and body settle later; `status` is then provisional.
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  sse?: SseSink;
  late?: LateBody;
}

/**
 * A JSON reply for an already serialised body. The text is the body as it is
 * (the edge encodes it once, as it writes it; no buffer made per reply).
 */
export function jsonReply(status: number, json: string, headers?: Record<string, string>): Reply {
  const h = headers
    ? { 'content-type': 'application/json', ...headers }
    : { 'content-type': 'application/json' };
  return { status, headers: h, body: json };
}

/** The reply for a {@link BridgeHttpError}: its status and a JSON-RPC error body (the repo's one rendering). */
export function errorReply(err: BridgeHttpError, extraHeaders?: Record<string, string>): Reply {
  const { status, headers, body } = jsonRpcErrorParts(err, err.id, extraHeaders);
  return { status, headers, body: Buffer.from(body) };
}

/** 413 for a body over `max` bytes. */
export function tooLarge(max: number): BridgeHttpError {
  return new BridgeHttpError(413, JsonRpcCode.ServerError, `Payload Too Large: body exceeds ${max} bytes`);
}

/**
 * The path of an absolute URL as `new URL(url).pathname` gives it. Plain
 * paths (the usual case) are cut out of the string; anything else goes
 * through `URL`.
 */
export function pathnameOf(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
  if (start === -1) return new URL(url).pathname;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 0x3f /* ? */ || ch === 0x23 /* # */) {
      end = i;
      break;
    }
    // Only [A-Za-z0-9/_~-] are taken as is; anything URL parsing could change goes through URL.
    const plain =
      (ch >= 0x61 && ch <= 0x7a) ||
      (ch >= 0x41 && ch <= 0x5a) ||
      (ch >= 0x2f && ch <= 0x39) ||
      ch === 0x2d ||
      ch === 0x5f ||
      ch === 0x7e;
    if (!plain) return new URL(url).pathname;
  }
  return url.slice(start, end);
}
