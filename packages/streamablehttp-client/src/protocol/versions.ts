import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
/**
 * Every protocol-version decision of the client lives here: which MCP
 * revisions it speaks, which one it prefers, what a server's answer to the
 * `server/discover` probe says about its era, and the JSON-RPC codes that only
 * a 2026-07-28 (modern) server sends.
 */

/** The modern (session-less) revision this client speaks. */
export const MODERN_VERSION = '2026-07-28';

/** Modern revisions this client speaks, preferred first. */
export const MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

/** The newest 2025 (session) revision: what `initialize` asks for. */
export const LEGACY_VERSION = '2025-11-25';

/** 2025-era revisions a stdio host may ask for in its `initialize` (the bridge answers with one of them). */
export const LEGACY_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** What `--protocol` accepts: `auto` probes; a revision pins the era. */
export const PROTOCOL_PREFERENCES = ['auto', MODERN_VERSION, LEGACY_VERSION] as const;
export type ProtocolPreference = (typeof PROTOCOL_PREFERENCES)[number];

/** The protocol era of a server: modern = 2026-07-28 (no session), legacy = 2025 (`initialize`, session). */
export type Era = 'modern' | 'legacy';

/** JSON-RPC error codes defined by 2026-07-28; a server answering one of them is modern. */
export const MODERN_ERRORS = {
  /** Headers missing or not matching the body (SEP-2243). */
  headerMismatch: JSONRPC_ERROR_CODES.HeaderMismatch,
  /** The request's `_meta` lacks a capability the server needs. */
  missingRequiredClientCapability: JSONRPC_ERROR_CODES.MissingRequiredClientCapability,
  /** The requested revision is not served; `data.supported` lists those that are. */
  unsupportedProtocolVersion: JSONRPC_ERROR_CODES.UnsupportedProtocolVersion,
} as const;

const MODERN_CODES = new Set<number>(Object.values(MODERN_ERRORS));

/** True for an error code only a modern server sends. */
export function isModernErrorCode(code: unknown): boolean {
  return typeof code === 'number' && MODERN_CODES.has(code);
}

/** `true` when the preference allows the modern wire at all. */
export function allowsModern(preference: ProtocolPreference): boolean {
  return preference !== LEGACY_VERSION;
}

/** Parses `--protocol`; `undefined` when the value is not one we know. */
export function parseProtocolPreference(value: string | undefined): ProtocolPreference | undefined {
  if (value === undefined || value === '') return 'auto';
  return (PROTOCOL_PREFERENCES as readonly string[]).includes(value)
    ? (value as ProtocolPreference)
    : undefined;
}

/** The first of our modern revisions a server lists (in `supportedVersions` or a -32022's `data.supported`). */
export function pickModernVersion(supported: unknown): string | undefined {
  if (!Array.isArray(supported)) return undefined;
  return MODERN_VERSIONS.find((v) => supported.includes(v));
}

/** The revision the bridge answers a 2025 host's `initialize` with: the host's own when we know it, else the newest. */
export function legacyVersionFor(requested: unknown): string {
  return typeof requested === 'string' && LEGACY_VERSIONS.includes(requested) ? requested : LEGACY_VERSION;
}

/** The `_meta` keys of the 2026-07-28 request envelope. */
export const META_KEYS = MCP_META_KEYS;

/** Methods whose `Mcp-Name` header carries `params.name` or `params.uri`. */
export const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** Methods a server may answer with `input_required` (SEP-2322). */
export const INPUT_METHODS = ['elicitation/create', 'sampling/createMessage', 'roots/list'] as const;

/** The client capability a host must have declared before it is asked an input request's method. */
export const CAPABILITY_OF_INPUT: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};
