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
  | 'aborted';

/** A fetch that did not produce content. The message is safe to show to a model or user. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  /** Machine-readable reason. */
  readonly code: FetchErrorCode;
  /** HTTP status, for `http_status`. */
  readonly status: number | undefined;

  constructor(code: FetchErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/** JSON-RPC error codes used by the HTTP edge (MCP Streamable HTTP). */
export const JsonRpcErrorCode = {
  /** Generic server error used by the MCP SDK for transport-level refusals. */
  ServerError: -32000,
  ParseError: -32700,
  InvalidRequest: -32600,
  InternalError: -32603,
} as const;

/**
 * A refusal at the HTTP edge (Host/Origin check, unknown session, body too
 * large), rendered as a JSON-RPC error object with an HTTP status.
 */
export class HttpEdgeError extends Error {
  override readonly name = 'HttpEdgeError';
  readonly status: number;
  readonly rpcCode: number;

  constructor(status: number, rpcCode: number, message: string) {
    super(message);
    this.status = status;
    this.rpcCode = rpcCode;
  }

  /** The response a client receives: `{"jsonrpc":"2.0","error":{code,message},"id":null}`. */
  toResponse(): Response {
    return Response.json(
      { jsonrpc: '2.0', error: { code: this.rpcCode, message: this.message }, id: null },
      { status: this.status },
    );
  }
}
