// One JSON-RPC-over-HTTP error type for every MCP edge (gateway-kit, the bridge, fetch-server),
// inlined into each package at build time. Handlers throw a JsonRpcHttpError; one function turns it
// into what a client receives. Web-standard only.
import { JSONRPC_ERROR_CODES } from './jsonrpc-error-codes.js';

export { JSONRPC_ERROR_CODES };

/** A JSON-RPC request id; `null` when the error concerns no request (or one whose id is unknown). */
export type JsonRpcId = string | number | null;

/** What a {@link JsonRpcHttpError} carries besides status, code and message. */
export interface JsonRpcHttpErrorOptions {
  /** Extra response headers, e.g. `Retry-After` on a 429/503, `Allow` on a 405. */
  headers?: Record<string, string>;
  /** `error.data` of the JSON-RPC body, when the code defines one (e.g. `-32022`'s `supported`). */
  data?: unknown;
  /** The id of the request the error answers (default `null`). */
  id?: JsonRpcId;
  /** The error behind this one (kept for logs, never sent). */
  cause?: unknown;
}

/**
 * An error a client receives as an HTTP status and a JSON-RPC error body,
 * `{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"…"}}`. Codes come from
 * {@link JSONRPC_ERROR_CODES}; {@link jsonRpcErrorResponse} turns one into a `Response`.
 */
export class JsonRpcHttpError extends Error {
  override name = 'JsonRpcHttpError';
  /** The HTTP status of the response. */
  readonly status: number;
  /** The JSON-RPC `error.code`. */
  readonly code: number;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** The JSON-RPC `error.data`, if any. */
  readonly data: unknown;
  /** The id of the request answered. */
  readonly id: JsonRpcId;

  constructor(status: number, code: number, message: string, options: JsonRpcHttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.data = options.data;
    this.id = options.id ?? null;
  }

  /** The JSON-RPC error response, answering request `id` (default: the error's own). */
  toResponse(id: JsonRpcId = this.id): Response {
    return jsonRpcErrorResponse(this, id);
  }
}

/** The parts of a JSON-RPC error response, for edges that write their own (the bridge's `Reply`). */
export interface JsonRpcErrorParts {
  status: number;
  headers: Record<string, string>;
  /** The serialised JSON-RPC error message. */
  body: string;
}

/** Serialises the JSON-RPC error message `{"jsonrpc":"2.0","id":…,"error":{code,message[,data]}}`. */
export function jsonRpcErrorBody(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error: { code: number; message: string; data?: unknown } = { code, message };
  if (data !== undefined) error.data = data;
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/**
 * Status, headers and body of the response for `err`: JSON, never cached (`Cache-Control:
 * no-store`), with the error's own headers (and `extraHeaders`, e.g. CORS) on top.
 */
export function jsonRpcErrorParts(
  err: JsonRpcHttpError,
  id: JsonRpcId = err.id,
  extraHeaders?: Record<string, string>,
): JsonRpcErrorParts {
  return {
    status: err.status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...err.headers,
      ...extraHeaders,
    },
    body: jsonRpcErrorBody(id, err.code, err.message, err.data),
  };
}

/** The one way a {@link JsonRpcHttpError} becomes a `Response` (see {@link jsonRpcErrorParts}). */
export function jsonRpcErrorResponse(
  err: JsonRpcHttpError,
  id: JsonRpcId = err.id,
  extraHeaders?: Record<string, string>,
): Response {
  const { status, headers, body } = jsonRpcErrorParts(err, id, extraHeaders);
  return new Response(body, { status, headers });
}

/**
 * The node edge's own answers for an MCP server, as JSON-RPC errors: 400 (a request the edge
 * cannot use, e.g. a `Host` that forms no URL) is a transport refusal (-32000, as the MCP SDK
 * answers an unusable Host), 500 (the handler threw) an internal error (-32603).
 */
export function jsonRpcEdgeError(status: 400 | 500, message: string): Response {
  const err =
    status === 400
      ? new JsonRpcHttpError(400, JSONRPC_ERROR_CODES.ServerError, `Bad Request: ${message}`)
      : new JsonRpcHttpError(500, JSONRPC_ERROR_CODES.InternalError, 'Internal server error');
  return jsonRpcErrorResponse(err);
}
