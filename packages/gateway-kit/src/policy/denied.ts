import { GatewayError, JsonRpcCode } from '../errors.js';

/**
 * A `tools/call` a per-tool policy refused, as the JSON-RPC error the MCP
 * route answers with: code `-32010` (`PolicyDenied`, in JSON-RPC's
 * implementation-defined server range) for 2025 callers and `-31010`
 * (`PolicyDeniedModern`, outside the reserved range, as MCP 2026-07-28 asks)
 * for 2026-07-28 callers; HTTP 200 (the request was handled; a 403 would send
 * MCP clients into re-authorization), message
 * `tool "<name>" refused by policy: <reason>`, `data: { tool, reason }`.
 * The route answers with {@link jsonRpcErrorIn} of the caller's era (or
 * `toResponse(id)`, the 2025 answer).
 */
export class PolicyDeniedError extends GatewayError {
  constructor(
    readonly tool: string,
    readonly reason: string,
  ) {
    super(200, JsonRpcCode.PolicyDenied, `tool "${tool}" refused by policy: ${reason}`, {}, { tool, reason });
  }

  /** The JSON-RPC `error` member, as a 2025 caller gets it (code `-32010`). */
  get jsonRpcError(): { code: number; message: string; data: { tool: string; reason: string } } {
    return this.jsonRpcErrorIn(false);
  }

  /** The JSON-RPC `error` member for a caller of 2026-07-28 (`modern`, code `-31010`) or of 2025 (`-32010`). */
  jsonRpcErrorIn(modern: boolean): { code: number; message: string; data: { tool: string; reason: string } } {
    const code = modern ? JsonRpcCode.PolicyDeniedModern : this.code;
    return { code, message: this.message, data: { tool: this.tool, reason: this.reason } };
  }
}
