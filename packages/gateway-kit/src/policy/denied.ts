import { GatewayError, JsonRpcCode } from '../errors.js';

/**
 * A `tools/call` a per-tool policy refused, as the JSON-RPC error the MCP
 * route answers with: code `-32010` (`PolicyDenied`, in JSON-RPC's
 * implementation-defined server range), HTTP 200 (the request was handled;
 * a 403 would send MCP clients into re-authorization), message
 * `tool "<name>" refused by policy: <reason>`, `data: { tool, reason }`.
 * The route throws it and answers with `toResponse(id)` (or writes
 * {@link jsonRpcError} into a batch or stream).
 */
export class PolicyDeniedError extends GatewayError {
  constructor(
    readonly tool: string,
    readonly reason: string,
  ) {
    super(200, JsonRpcCode.PolicyDenied, `tool "${tool}" refused by policy: ${reason}`, {}, { tool, reason });
  }

  /** The JSON-RPC `error` member. */
  get jsonRpcError(): { code: number; message: string; data: { tool: string; reason: string } } {
    return { code: this.code, message: this.message, data: { tool: this.tool, reason: this.reason } };
  }
}
