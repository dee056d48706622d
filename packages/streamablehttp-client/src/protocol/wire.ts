import { ServerError } from '../errors.js';
import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { readSseData } from '@mcp-gateway/internal/sse-reader';
import { summarizeBody, type FetchLike } from '../http/fetch.js';
import { encodeHeaderValue } from './tool-headers.js';
import { NAMED_METHODS } from './versions.js';

/** A JSON-RPC id. */
export type Id = string | number;

/** A JSON-RPC error object. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** The answer to one request: its result or its error (HTTP errors with a JSON-RPC body included). */
export type RpcAnswer =
  | { id: Id | null; result: Record<string, unknown>; error?: undefined; status: number }
  | { id: Id | null; error: RpcError; result?: undefined; status: number };

/** A notification the server sent on a request's SSE stream. */
export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

/** One modern (2026-07-28) POST. */
export interface WireRequest {
  id: Id;
  method: string;
  /** The params, `_meta` envelope included. */
  params: Record<string, unknown>;
  /** The revision: the `MCP-Protocol-Version` header (= the envelope's). */
  version: string;
  /** More headers (`Mcp-Param-*`). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Notifications on the answer's SSE stream (progress, log messages, subscription events). */
  onNotification?: (n: RpcNotification) => void;
}

/** Largest JSON answer (bytes) or single SSE event (characters of its data and unended line) we read. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The SEP-2243 standard headers of a request: `MCP-Protocol-Version`,
 * `Mcp-Method`, and `Mcp-Name` for `tools/call`, `prompts/get` (`params.name`)
 * and `resources/read` (`params.uri`).
 */
export function standardHeaders(method: string, params: Record<string, unknown>, version: string) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': version,
    'mcp-method': method,
  };
  const field = NAMED_METHODS[method];
  const name = field ? params[field] : undefined;
  if (typeof name === 'string') headers['mcp-name'] = encodeHeaderValue(name);
  return headers;
}

const tooLarge = () => new ServerError('too_large', `an answer was larger than ${MAX_MESSAGE_BYTES} bytes`);
const eventTooLarge = () =>
  new ServerError(
    'too_large',
    `an event of an answer stream was longer than ${MAX_MESSAGE_BYTES} characters`,
  );

function asAnswer(msg: unknown, status: number): RpcAnswer | undefined {
  if (!msg || typeof msg !== 'object' || 'method' in msg) return undefined;
  const m = msg as { id?: unknown; result?: unknown; error?: unknown };
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  if (m.error && typeof m.error === 'object') {
    const e = m.error as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof e.code !== 'number') return undefined;
    const error: RpcError = { code: e.code, message: typeof e.message === 'string' ? e.message : '' };
    if (e.data !== undefined) error.data = e.data;
    return { id, error, status };
  }
  if (m.result && typeof m.result === 'object' && !Array.isArray(m.result))
    return { id, result: m.result as Record<string, unknown>, status };
  return undefined;
}

/**
 * POSTs one modern request and reads its answer: JSON, or an SSE stream whose
 * notifications go to `onNotification` until the response to `id` arrives (the
 * stream is then closed). An HTTP error whose body is a JSON-RPC error is an
 * answer too (400 -32022, 404 -32601, …); `undefined` when an SSE stream ended
 * without one. Any other failure is a {@link ServerError} naming the URL.
 */
export async function exchange(
  url: URL,
  fetchFn: FetchLike,
  req: WireRequest,
): Promise<RpcAnswer | undefined> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: req.id, method: req.method, params: req.params });
  const headers = { ...standardHeaders(req.method, req.params, req.version), ...req.headers };
  const res = await fetchFn(url, {
    method: 'POST',
    headers,
    body,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream' && res.ok && res.body) {
    // The signal also ends the reading itself: aborting the fetch does not always end a body read
    // already waiting for the next chunk.
    const events = readSseData(res.body, {
      maxEventLength: MAX_MESSAGE_BYTES,
      tooLarge: eventTooLarge,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    for await (const data of events) {
      let msg: unknown;
      try {
        msg = JSON.parse(data);
      } catch {
        continue;
      }
      const answer = asAnswer(msg, res.status);
      if (answer && answer.id === req.id) return answer;
      if (msg && typeof msg === 'object' && 'method' in msg && !('id' in msg))
        req.onNotification?.(msg as RpcNotification);
    }
    if (req.signal?.aborted) throw req.signal.reason;
    return undefined;
  }
  const bytes = await readCappedBody(res, MAX_MESSAGE_BYTES, tooLarge);
  const text = bytes ? new TextDecoder().decode(bytes) : '';
  let answer: RpcAnswer | undefined;
  try {
    answer = asAnswer(JSON.parse(text), res.status);
  } catch {
    answer = undefined;
  }
  if (answer) return answer;
  if (res.status === 202)
    throw new ServerError(
      'no_answer',
      `${url.href} accepted ${req.method} with HTTP 202 and will not answer it`,
    );
  // The messages of the 2025 path (`toClientError`), so both eras read alike.
  if (res.ok && type !== 'application/json' && type !== 'text/event-stream')
    throw new ServerError(
      'not_mcp',
      `${url.href} is not an MCP Streamable HTTP endpoint: it answered with content type ${type || 'unknown'}`,
      { status: res.status },
    );
  throw new ServerError(
    `http_${res.status}`,
    `${url.href} answered HTTP ${res.status} with ${summarizeBody(res.headers.get('content-type'), text)}`,
    { status: res.status },
  );
}

/** {@link exchange}, where an SSE stream ending without the answer is a `stream_ended` {@link ServerError}. */
export async function postRequest(url: URL, fetchFn: FetchLike, req: WireRequest): Promise<RpcAnswer> {
  const answer = await exchange(url, fetchFn, req);
  if (answer) return answer;
  throw new ServerError(
    'stream_ended',
    `${url.href} ended the answer stream of ${req.method} before it answered`,
  );
}
