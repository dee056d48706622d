/**
 * Every MCP protocol-version rule of the bridge lives here, so a new spec
 * revision (e.g. 2026-07-28) is one edit.
 */

/** Protocol versions the bridge accepts in `MCP-Protocol-Version`, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

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
