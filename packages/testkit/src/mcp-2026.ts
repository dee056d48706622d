/**
 * MCP 2026-07-28 requests as a spec-following client sends them, for tests
 * and benches that speak the protocol raw: the per-request `_meta` envelope
 * (SEP-2575) and the headers that mirror the body (SEP-2243).
 */
import { encodeHeaderValue } from '@mcp-gateway/internal/mcp-header-value';
import { paramHeaderValues, parseParamHeaders } from '@mcp-gateway/internal/mcp-param-headers';

/** The stateless MCP revision. */
export const MCP_2026 = '2026-07-28';

/** What a 2026 request carries besides its method and params. */
export interface Request2026Options {
  /** The JSON-RPC id (default 1). */
  id?: number | string;
  /** `io.modelcontextprotocol/clientCapabilities` (default `{}`). */
  capabilities?: Record<string, unknown>;
  /** Further `_meta` keys (`progressToken`, `io.modelcontextprotocol/clientInfo`, …), over the envelope. */
  meta?: Record<string, unknown>;
  /** The `Accept` header (default JSON or an event stream). */
  accept?: string;
  /**
   * The called tool's `inputSchema` (a `tools/call`): its `x-mcp-header` arguments
   * are mirrored into `Mcp-Param-*` headers, as a client does.
   */
  inputSchema?: unknown;
}

/** A 2026-07-28 request: the message, its body text and the headers that go with it. */
export interface Request2026 {
  message: { jsonrpc: '2.0'; id: number | string; method: string; params: Record<string, unknown> };
  body: string;
  headers: Record<string, string>;
}

/** The `_meta` envelope of a 2026-07-28 request. */
export function envelope2026(
  capabilities: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MCP_2026,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    ...meta,
  };
}

/**
 * `method` with `params` at 2026-07-28: `_meta` carries the envelope, and the
 * headers carry `MCP-Protocol-Version`, `Mcp-Method`, for a request that
 * names a tool, prompt or resource `Mcp-Name`, and with `opts.inputSchema`
 * the `Mcp-Param-*` headers (values encoded as SEP-2243 says, by the code the
 * packages use).
 */
export function request2026(
  method: string,
  params: Record<string, unknown> = {},
  opts: Request2026Options = {},
): Request2026 {
  const message = {
    jsonrpc: '2.0' as const,
    id: opts.id ?? 1,
    method,
    params: { ...params, _meta: envelope2026(opts.capabilities, opts.meta) },
  };
  const named = params.name ?? params.uri;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: opts.accept ?? 'application/json, text/event-stream',
    'mcp-protocol-version': MCP_2026,
    'mcp-method': method,
    ...(typeof named === 'string' ? { 'mcp-name': encodeHeaderValue(named) } : {}),
  };
  if (opts.inputSchema !== undefined) {
    const { params: declared } = parseParamHeaders(opts.inputSchema);
    Object.assign(headers, paramHeaderValues(declared, params.arguments));
  }
  return { message, body: JSON.stringify(message), headers };
}
