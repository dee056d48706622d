/** JSON-RPC error codes the bridge answers with. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  /** `params` the bridge can tell are malformed (not an object, or an array where MCP wants an object). */
  InvalidParams: -32602,
  /** Generic server error; also the SDK's `ConnectionClosed`. */
  ServerError: -32000,
  /** Unknown or ended session; also the SDK's `RequestTimeout`. */
  SessionNotFound: -32001,
  /** A request past its deadline (the SDK's `RequestTimeout`): the child did not answer in time. */
  RequestTimeout: -32001,
  InternalError: -32603,
  /** Unknown method, or one the 2026-07-28 wire removed (`initialize`, `ping`, …). */
  MethodNotFound: -32601,
  /** 2026-07-28 (SEP-2243): an `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` header missing or unlike the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: serving needs a client capability the request's `_meta` did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the request's protocol version is not one the bridge serves. */
  UnsupportedProtocolVersion: -32022,
} as const;

/**
 * An HTTP-level refusal carrying a JSON-RPC error body
 * (`{"jsonrpc":"2.0","error":{code,message},"id":null}`; `id` is the
 * request's when the refusal concerns one request). Handlers throw it;
 * `errorReply` (exchange.ts) turns it into an answer in one place.
 */
export class BridgeHttpError extends Error {
  override readonly name = 'BridgeHttpError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly id: string | number | null = null,
    /** `error.data` of the JSON-RPC body, when the code defines one. */
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** Serialises a JSON-RPC error object for request `id`. */
export function jsonRpcErrorBody(
  id: string | number | null,
  code: number,
  message: string,
  data?: unknown,
): string {
  const error: { code: number; message: string; data?: unknown } = { code, message };
  if (data !== undefined) error.data = data;
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}
