import { isLegacyRequest } from '@modelcontextprotocol/server';

/**
 * The MCP revisions this server speaks, and the one place that decides which
 * era a request belongs to. Every version check of the package lives here or
 * in the SDK code this module delegates to.
 *
 * - **Legacy** (2025-era, `initialize` handshake): served by the MCP SDK 1.x
 *   Streamable HTTP transport, per request (stateless, the default) or in a
 *   session (`Mcp-Session-Id`, the `stateful` option). The transport itself
 *   checks `MCP-Protocol-Version` against {@link LEGACY_PROTOCOL_VERSIONS}.
 * - **Modern** (2026-07-28, SEP-2575/SEP-2567): no handshake, no session id;
 *   every request carries `io.modelcontextprotocol/protocolVersion` and
 *   `io.modelcontextprotocol/clientCapabilities` in `params._meta` and the
 *   `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers. Served by the
 *   MCP SDK 2.x `createMcpHandler`, which validates the envelope and headers.
 */

/** Modern revisions: per-request `_meta`, no session, `server/discover`. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;

/**
 * Legacy revisions served after an `initialize` handshake (the SDK 1.x
 * transport also accepts 2024-11-05 for old clients; a request without an
 * `MCP-Protocol-Version` header is taken as 2025-03-26, as the spec allows).
 */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;

/** Every revision served on the endpoint, newest first (README, `--help`). */
export const SERVED_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...LEGACY_PROTOCOL_VERSIONS,
];

/**
 * Which era a request is answered in: `legacy` (2025 `initialize`/session
 * wire) or `modern` (2026-07-28 stateless wire).
 */
export type ProtocolEra = 'legacy' | 'modern';

/**
 * Classifies one HTTP request on the MCP endpoint.
 *
 * `modern` is every request that claims the 2026 wire: a body with the
 * per-request `_meta` envelope (even one naming a revision we do not serve,
 * which the modern path answers with `UnsupportedProtocolVersionError`
 * -32022), or an `MCP-Protocol-Version` header naming a modern revision
 * (a missing envelope is then -32602). Everything else is `legacy`:
 * `initialize`, session requests, GET/DELETE, bodies that are not JSON.
 *
 * Delegates to the SDK 2.x predicate, which runs the exact classification
 * `createMcpHandler` runs, so the two can never disagree. The body is read
 * from a clone, at most `maxBodyBytes` bytes; an over-size body classifies
 * `modern`, whose handler answers 413 without parsing it.
 */
export async function protocolEra(request: Request, maxBodyBytes: number): Promise<ProtocolEra> {
  return (await isLegacyRequest(request, undefined, { maxRequestBodySize: maxBodyBytes }))
    ? 'legacy'
    : 'modern';
}
