/** JSON-RPC error codes the gateway answers with (server-defined range, JSON-RPC 2.0 §5.1). */
export const JsonRpcCode = {
  /** The backend (upstream server or stdio child) could not be reached or failed. */
  BackendUnavailable: -32001,
  /** The backend did not answer in time. */
  BackendTimeout: -32002,
  /** The store (file or Redis) is unreachable. */
  StoreUnavailable: -32003,
  /** Parse error: the body is not JSON. */
  ParseError: -32700,
  /** Invalid request. */
  InvalidRequest: -32600,
  /** Internal error. */
  InternalError: -32603,
} as const;

/**
 * An error a client receives as a JSON-RPC error object with an HTTP status
 * (MCP endpoints), e.g. `502 {"jsonrpc":"2.0","error":{"code":-32001,...},"id":null}`.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The JSON-RPC error response. */
  toResponse(id: string | number | null = null): Response {
    return Response.json(
      { jsonrpc: '2.0', error: { code: this.code, message: this.message }, id },
      { status: this.status, headers: { 'cache-control': 'no-store', ...this.headers } },
    );
  }
}

/** A plain JSON error for the gateway's own (non-MCP) endpoints: `{error, error_description}`. */
export function jsonError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
) {
  return Response.json(
    { error, error_description: description },
    { status, headers: { 'cache-control': 'no-store', ...headers } },
  );
}
