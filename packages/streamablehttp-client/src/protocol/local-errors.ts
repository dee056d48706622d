/**
 * JSON-RPC errors this client makes itself rather than receives. MCP
 * 2026-07-28 basic/index "Error Codes": "Implementations surfacing local
 * errors in JSON-RPC-shaped structures should ensure they cannot be mistaken
 * for errors received from the peer". Each carries
 * `data: { source: "mcp-streamablehttp-client", reason }`.
 */
import type { RpcError } from './wire.js';

/** `error.data.source` of a local error. */
export const LOCAL_ERROR_SOURCE = 'mcp-streamablehttp-client';

/** A local JSON-RPC error: `reason` says which (`unknown_result_type`, `excluded_tool`). */
export function localError(
  code: number,
  message: string,
  reason: string,
  extra: Record<string, unknown> = {},
): RpcError {
  return { code, message, data: { source: LOCAL_ERROR_SOURCE, reason, ...extra } };
}

/** True for an error made by {@link localError}. */
export function isLocalError(error: RpcError): boolean {
  return (error.data as { source?: unknown } | undefined)?.source === LOCAL_ERROR_SOURCE;
}
