import { JSONRPC_ERROR_CODES, JsonRpcHttpError, type JsonRpcId } from '@mcp-gateway/internal/jsonrpc-error';
import { modernErrorCode } from '@mcp-gateway/internal/jsonrpc-error-codes';

/** JSON-RPC error codes the bridge answers with, from the repo's one table. */
export const JsonRpcCode = {
  ParseError: JSONRPC_ERROR_CODES.ParseError,
  InvalidRequest: JSONRPC_ERROR_CODES.InvalidRequest,
  /** `params` the bridge can tell are malformed (not an object, or an array where MCP wants an object). */
  InvalidParams: JSONRPC_ERROR_CODES.InvalidParams,
  /** Transport refusals, and a child that exited (the SDK's `ConnectionClosed`). */
  ServerError: JSONRPC_ERROR_CODES.ServerError,
  /** Unknown or ended session (404 only). */
  SessionNotFound: JSONRPC_ERROR_CODES.SessionNotFound,
  /** A request past its deadline (the SDK's `RequestTimeout`): the child did not answer in time. */
  RequestTimeout: JSONRPC_ERROR_CODES.RequestTimeout,
  InternalError: JSONRPC_ERROR_CODES.InternalError,
  /** Unknown method, or one the 2026-07-28 wire removed (`initialize`, `ping`, …). */
  MethodNotFound: JSONRPC_ERROR_CODES.MethodNotFound,
  /** 2026-07-28 (SEP-2243): an `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` header missing or unlike the body. */
  HeaderMismatch: JSONRPC_ERROR_CODES.HeaderMismatch,
  /** 2026-07-28: serving needs a client capability the request's `_meta` did not declare. */
  MissingRequiredClientCapability: JSONRPC_ERROR_CODES.MissingRequiredClientCapability,
  /** 2026-07-28: the request's protocol version is not one the bridge serves. */
  UnsupportedProtocolVersion: JSONRPC_ERROR_CODES.UnsupportedProtocolVersion,
} as const;

/**
 * An HTTP-level refusal carrying a JSON-RPC error body
 * (`{"jsonrpc":"2.0","id":null,"error":{code,message}}`; `id` is the
 * request's when the refusal concerns one request): the repo's one
 * JSON-RPC-over-HTTP error type, named for the bridge. Handlers throw it;
 * `errorReply` (exchange.ts) turns it into an answer in one place.
 */
export class BridgeHttpError extends JsonRpcHttpError {
  override readonly name = 'BridgeHttpError';
  constructor(
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
    id: JsonRpcId = null,
    /** `error.data` of the JSON-RPC body, when the code defines one. */
    data?: unknown,
  ) {
    super(status, code, message, { headers, id, data });
  }
}

/**
 * A refusal as a 2026-07-28 client gets it. Codes from -32000 to -32019 are
 * legacy, and 2026 implementations SHOULD NOT use them (basic/index, "Error
 * Codes"), so such a code becomes a standard JSON-RPC one
 * ({@link modernErrorCode}, shared with the gateway's federated endpoints):
 * `-32603` (Internal error) for 429 and 5xx (the server cannot serve it now),
 * `-32600` (Invalid Request) for any other status (the request cannot be
 * accepted as sent). Status, headers, message, id and data stay; other codes
 * are kept.
 */
export function modernRefusal(err: BridgeHttpError): BridgeHttpError {
  const code = modernErrorCode(err.code, err.status);
  if (code === err.code) return err;
  return new BridgeHttpError(err.status, code, err.message, err.headers, err.id, err.data);
}

/** 2025's resource-not-found code, which 2026-07-28 implementations MUST NOT emit (replaced by `-32602`). */
const RESOURCE_NOT_FOUND_2025 = -32002;

/**
 * A 2025 child's JSON-RPC error to `method` as a 2026-07-28 client gets it. The spec names one
 * replacement for a legacy code: resource not found, `-32002` on `resources/read`, is `-32602`
 * (basic/index "Error Codes", server/resources "Error Handling"); message and data stay. The other
 * code 2026 forbids, `-32042` (URL elicitation required), is no error there but an input request
 * and never reaches this (`modern/url-elicitation.ts`). Every other
 * code passes unchanged: receivers MUST NOT assume a meaning for the other legacy codes
 * (`-32000`…`-32019`), so no replacement could be told apart from a guess, and a `-32002` from
 * another method is the server's own code, not resource not found.
 */
export function modernChildError(method: string, error: Record<string, unknown>): Record<string, unknown> {
  if (error.code === RESOURCE_NOT_FOUND_2025 && method === 'resources/read') {
    return { ...error, code: JsonRpcCode.InvalidParams };
  }
  return error;
}
