/**
 * SEP-2243 custom headers, client side: a tool marks an argument with
 * `x-mcp-header: "Name"` in its `inputSchema` (top level or nested through
 * `properties`), and a 2026-07-28 client mirrors that argument into an
 * `Mcp-Param-Name` header on `tools/call`. A tool whose declarations are
 * invalid MUST be excluded by the client: {@link toolHeaders} says why, and
 * the client drops it. The rules and the value encoding are the shared
 * vocabulary (`@mcp-gateway/internal/mcp-param-headers`), the same the bridge
 * checks by.
 */
import { encodeHeaderValue } from '@mcp-gateway/internal/mcp-header-value';
import {
  paramHeaderValues,
  parseParamHeaders,
  type ParamHeader,
} from '@mcp-gateway/internal/mcp-param-headers';

export { encodeHeaderValue };

/** A tool's `Mcp-Param-*` declarations: each argument's `properties` path and its header. */
export type ToolHeaderMap = readonly ParamHeader[];

/** The declarations of a tool, or why they are invalid. */
export type ToolHeaderCheck = { ok: true; headers: ToolHeaderMap } | { ok: false; reason: string };

/** Reads and validates the `x-mcp-header` declarations of a tool's `inputSchema`. */
export function toolHeaders(inputSchema: unknown): ToolHeaderCheck {
  const { params, invalid } = parseParamHeaders(inputSchema);
  return invalid === undefined ? { ok: true, headers: params } : { ok: false, reason: invalid };
}

/**
 * The `Mcp-Param-*` headers of one `tools/call`: each declared argument that
 * is present and not null, encoded.
 */
export function paramHeaders(map: ToolHeaderMap, args: unknown): Record<string, string> {
  return paramHeaderValues(map, args) ?? {};
}
