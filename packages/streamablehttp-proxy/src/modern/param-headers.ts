/**
 * SEP-2243 custom headers, server side: a tool may mark an argument with
 * `x-mcp-header: "Name"` in its `inputSchema`, and a 2026-07-28 client then
 * mirrors that argument into an `Mcp-Param-Name` header on `tools/call`. A
 * server that processes the body MUST check each such header against the
 * argument (decoded if `=?base64?…?=`), a header missing while the argument
 * has a value and one sent for an absent or `null` argument included, and
 * refuse a mismatch with 400 `-32020`.
 *
 * What counts as a declaration and how values are written is the shared
 * vocabulary (`@mcp-gateway/internal/mcp-param-headers`, the same the client
 * sends by); the refusal is the bridge's. The declarations are read once per
 * tool list ({@link toolParamHeaders}) and kept only for tools that have any,
 * so a call of any other tool costs one map lookup.
 */
import {
  paramHeaderMismatch,
  parseParamHeaders,
  type ParamHeader,
} from '@mcp-gateway/internal/mcp-param-headers';
import type { JsonRpcId } from '../jsonrpc.js';
import { headerMismatch, type HeaderReader } from './envelope.js';

export type { ParamHeader };

/** Tool name → its declarations; tools without any are absent. */
export type ToolParamHeaders = ReadonlyMap<string, readonly ParamHeader[]>;

/** No tool declares any. */
export const NO_PARAM_HEADERS: ToolParamHeaders = new Map();

/**
 * The declarations of a `tools/list` result's tools. A tool whose declarations
 * are invalid is excluded by conforming clients, yet its usable ones (on
 * properties reached through `properties` keys, with a token for a name) are
 * checked all the same: an intermediary may route on them.
 */
export function toolParamHeaders(tools: readonly unknown[]): ToolParamHeaders {
  const out = new Map<string, readonly ParamHeader[]>();
  for (const tool of tools) {
    if (typeof tool !== 'object' || tool === null) continue;
    const { name, inputSchema } = tool as { name?: unknown; inputSchema?: unknown };
    if (typeof name !== 'string') continue;
    const { params } = parseParamHeaders(inputSchema);
    if (params.length > 0) out.set(name, params);
  }
  return out;
}

/**
 * Throws 400 `-32020` (HeaderMismatch) answering request `id` unless every
 * declared argument with a value has its header, mirroring it, and no other
 * declared argument has one ({@link paramHeaderMismatch}: numbers compared
 * numerically, `42.0` is `42`).
 */
export function checkParamHeaders(
  id: JsonRpcId,
  declared: readonly ParamHeader[],
  args: unknown,
  header: HeaderReader,
): void {
  const mismatch = paramHeaderMismatch(declared, args, header);
  if (mismatch) throw headerMismatch(id, mismatch.header, mismatch.problem);
}
