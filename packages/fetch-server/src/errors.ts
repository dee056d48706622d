import { JSONRPC_ERROR_CODES, JsonRpcHttpError } from '@mcp-gateway/internal/jsonrpc-error';

/**
 * Why a fetch was refused or failed. Every failure the `fetch` tool reports
 * carries one of these codes, so callers (and tests) can branch on the reason
 * rather than on message text.
 */
export type FetchErrorCode =
  | 'invalid_url'
  | 'blocked_address'
  | 'dns_failed'
  | 'connect_failed'
  | 'timeout'
  | 'too_large'
  | 'too_many_redirects'
  | 'http_status'
  | 'robots_disallowed'
  | 'unsupported_content'
  | 'aborted'
  /** Too many fetches in flight, for this caller or overall (see `maxConcurrentFetches*`). */
  | 'busy';

/** A fetch that did not produce content. The message is safe to show to a model or user. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  /** Machine-readable reason. */
  readonly code: FetchErrorCode;
  /** HTTP status, for `http_status`. */
  readonly status: number | undefined;
  /**
   * The address a host name resolved to, when it matters to the refusal (`blocked_address`). For
   * the operator's log only: the message never names a resolved address, so the tool cannot be
   * used to read internal DNS.
   */
  readonly address: string | undefined;

  constructor(
    code: FetchErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; address?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.address = options.address;
  }
}

/** JSON-RPC error codes used by the HTTP edge (MCP Streamable HTTP), from the repo's one table. */
export const JsonRpcErrorCode = {
  /** Transport-level refusals (the MCP SDK's generic server error). */
  ServerError: JSONRPC_ERROR_CODES.ServerError,
  /** Unknown or ended session (404 only). */
  SessionNotFound: JSONRPC_ERROR_CODES.SessionNotFound,
  ParseError: JSONRPC_ERROR_CODES.ParseError,
  InvalidRequest: JSONRPC_ERROR_CODES.InvalidRequest,
  InternalError: JSONRPC_ERROR_CODES.InternalError,
} as const;

/**
 * A refusal at the HTTP edge (Host/Origin check, unknown session, body too
 * large), rendered as a JSON-RPC error object with an HTTP status: the repo's
 * one JSON-RPC-over-HTTP error type, named for fetch-server.
 */
export class HttpEdgeError extends JsonRpcHttpError {
  override readonly name = 'HttpEdgeError';

  constructor(status: number, rpcCode: number, message: string, headers: Record<string, string> = {}) {
    super(status, rpcCode, message, { headers });
  }

  /** The JSON-RPC error code (the same as `code`). */
  get rpcCode(): number {
    return this.code;
  }
}
