import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc.js';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { MODERN_PROTOCOL_VERSIONS, isModernProtocolVersion } from '../protocol-version.js';

/** `params._meta` keys of the 2026-07-28 per-request envelope. */
export const META = MCP_META_KEYS;

/** A 2026-07-28 request whose envelope and headers passed every check. */
export interface ModernRequest {
  id: JsonRpcId;
  method: string;
  /** `params` as sent (envelope included). */
  params: Record<string, unknown>;
  version: string;
  clientCapabilities: Record<string, unknown>;
  /** `_meta` logLevel: `notifications/message` at or above it is streamed; absent: none. */
  logLevel: string | undefined;
}

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri` (SEP-2243). */
const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** A request header by lower-case name, as the HTTP layer gives it. */
export type HeaderReader = (name: string) => string | null;

/**
 * Checks a modern request's `_meta` envelope (SEP-2575) and its mirrored
 * headers (SEP-2243), in this order: missing envelope keys → `-32602`;
 * `MCP-Protocol-Version` missing or unlike the `_meta` version → `-32020`; a
 * revision the bridge does not serve → `-32022` with `data.supported`;
 * `Mcp-Method` or `Mcp-Name` missing or unlike the body → `-32020`. Every refusal is HTTP 400 and echoes the request id.
 */
export function checkEnvelope(
  id: JsonRpcId,
  method: string,
  params: Record<string, unknown>,
  header: HeaderReader,
): ModernRequest {
  const meta = params._meta;
  const m = (typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {}) as Record<
    string,
    unknown
  >;
  const version = m[META.protocolVersion];
  const caps = m[META.clientCapabilities];
  if (typeof version !== 'string' || typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw new BridgeHttpError(
      400,
      JsonRpcCode.InvalidParams,
      `Invalid params: _meta must carry ${META.protocolVersion} (a string) and ${META.clientCapabilities} (an object)`,
      {},
      id,
    );
  }
  // The header must mirror the body before the version itself is judged (a mismatch is -32020, not -32022).
  mirror(id, header('mcp-protocol-version'), version, 'MCP-Protocol-Version');
  if (!isModernProtocolVersion(version)) {
    throw new BridgeHttpError(
      400,
      JsonRpcCode.UnsupportedProtocolVersion,
      `Unsupported protocol version: ${version}`,
      {},
      id,
      { supported: [...MODERN_PROTOCOL_VERSIONS], requested: version },
    );
  }
  mirror(id, header('mcp-method'), method, 'Mcp-Method');
  const nameKey = NAMED[method];
  if (nameKey) {
    const name = params[nameKey];
    if (typeof name !== 'string') {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        `Invalid params: ${nameKey} must be a string`,
        {},
        id,
      );
    }
    mirror(id, header('mcp-name'), name, 'Mcp-Name');
  }
  const level = m[META.logLevel];
  return {
    id,
    method,
    params,
    version,
    clientCapabilities: caps as Record<string, unknown>,
    logLevel: typeof level === 'string' ? level : undefined,
  };
}

/** `-32020` unless header `name` (trimmed, `=?base64?…?=` decoded) equals `expected`. */
function mirror(id: JsonRpcId, raw: string | null, expected: string, name: string): void {
  const value = raw === null ? null : decodeHeaderValue(raw.trim());
  if (value === expected) return;
  throw new BridgeHttpError(
    400,
    JsonRpcCode.HeaderMismatch,
    value === null
      ? `Header mismatch: ${name} header is required`
      : `Header mismatch: ${name} header does not match the request body`,
    {},
    id,
  );
}

/** Decodes a SEP-2243 `=?base64?<data>?=` value; other values are returned as they are. */
export function decodeHeaderValue(value: string): string {
  const m = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/i.exec(value);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value;
}

/** MCP log levels, least severe first (RFC 5424 order). */
const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** True when a `notifications/message` at `level` passes the request's `logLevel` (never without one). */
export function logLevelAllows(requested: string | undefined, level: unknown): boolean {
  if (requested === undefined) return false;
  const want = LOG_LEVELS.indexOf(requested);
  const got = LOG_LEVELS.indexOf(typeof level === 'string' ? level : '');
  return want !== -1 && got >= want;
}
