import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import type { JsonRpcId } from './jsonrpc.js';
/**
 * Every MCP protocol-version rule of the bridge lives here, so a new spec
 * revision is one edit: which revisions each era serves, and which era a
 * request belongs to ({@link requestEra}).
 *
 * - **Legacy** (2025-era): `initialize` handshake, `Mcp-Session-Id`, one
 *   child per session. Versions in {@link SUPPORTED_PROTOCOL_VERSIONS}.
 * - **Modern** (2026-07-28, SEP-2575/SEP-2567): no handshake, no session;
 *   each request carries `io.modelcontextprotocol/protocolVersion` in
 *   `params._meta` and the `MCP-Protocol-Version` header. Served by a pooled,
 *   already-initialized child of the caller (`src/modern/`).
 */

/** Protocol versions the bridge accepts in `MCP-Protocol-Version`, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

/** Modern revisions (stateless wire, `server/discover`), newest first. */
export const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];

/**
 * Every revision the bridge serves, newest first: modern and legacy. A dual-era server lists them
 * all wherever it names its supported versions (`server/discover` `supportedVersions`, `-32022`
 * `data.supported`; spec 2026-07-28 basic/versioning).
 */
export const SERVED_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...SUPPORTED_PROTOCOL_VERSIONS,
];

/** The revisions a bridge serves: {@link SERVED_PROTOCOL_VERSIONS}, or the legacy ones alone when its 2026 side is off. */
export function servedProtocolVersions(modern: boolean): readonly string[] {
  return modern ? SERVED_PROTOCOL_VERSIONS : SUPPORTED_PROTOCOL_VERSIONS;
}

/** The 2025-era revision the bridge asks of the stdio children that serve modern requests. */
export const CHILD_PROTOCOL_VERSION = '2025-11-25';

/** `params._meta` key of a modern request's protocol version (the envelope's claim). */
export const PROTOCOL_VERSION_META_KEY = MCP_META_KEYS.protocolVersion;

/** True when `version` is a modern (2026-era) revision the bridge serves. */
export function isModernProtocolVersion(version: string): boolean {
  return MODERN_PROTOCOL_VERSIONS.includes(version);
}

/**
 * 400 `-32022` (UnsupportedProtocolVersionError) answering request `id`: `requested` is not
 * served; `data.supported` lists what is, for the client to retry with.
 */
export function unsupportedProtocolVersion(
  requested: string,
  supported: readonly string[],
  id: JsonRpcId | null,
): BridgeHttpError {
  return new BridgeHttpError(
    400,
    JsonRpcCode.UnsupportedProtocolVersion,
    `Unsupported protocol version: ${requested}`,
    {},
    id,
    { supported: [...supported], requested },
  );
}

/** Which wire a request speaks: the 2025 session wire or the 2026 stateless one. */
export type ProtocolEra = 'legacy' | 'modern';

/**
 * Classifies one POST (the same rule as the MCP SDK 2.x `isLegacyRequest`):
 * `modern` when it carries no `Mcp-Session-Id` and either its
 * `MCP-Protocol-Version` header names a modern revision (a missing envelope
 * is then `-32602`, not a 2025 request) or its body carries the `_meta`
 * envelope claim (even naming a revision the bridge does not serve, which the
 * modern path answers with `-32022`). Everything else is `legacy`.
 */
export function requestEra(
  parsed: unknown,
  versionHeader: string | null,
  sessionId: string | null,
): ProtocolEra {
  if (sessionId !== null) return 'legacy';
  if (versionHeader !== null && isModernProtocolVersion(versionHeader.trim())) return 'modern';
  for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
    const meta = (m as { params?: { _meta?: unknown } } | null)?.params?._meta;
    if (typeof meta === 'object' && meta !== null && PROTOCOL_VERSION_META_KEY in meta) return 'modern';
  }
  return 'legacy';
}

/** Assumed when a request carries no `MCP-Protocol-Version` header (spec 2025-06-18, transports). */
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';

/** True when `version` may appear in `MCP-Protocol-Version`. */
export function isSupportedProtocolVersion(version: string): boolean {
  return SUPPORTED_PROTOCOL_VERSIONS.includes(version);
}

/**
 * True when a client speaking `version` understands SSE priming events (an
 * event with an id and empty data) and resumes with `Last-Event-ID`: 2025-11-25 on.
 */
export function supportsPrimingEvents(version: string): boolean {
  return version >= '2025-11-25';
}
