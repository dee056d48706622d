import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc.js';
import { decodeHeaderValue, plainHeaderValue } from '@mcp-gateway/internal/mcp-header-value';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import {
  MODERN_PROTOCOL_VERSIONS,
  isModernProtocolVersion,
  unsupportedProtocolVersion,
} from '../protocol-version.js';

/**
 * A mirrored header's value as the client meant it (SEP-2243 "Value Encoding"), shared with every
 * package that writes or reads one: `undefined` when malformed, which never matches.
 */
export { decodeHeaderValue };

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
 * revision the bridge does not serve → `-32022` with `data.supported`
 * (`supported`, default the modern revisions); `Mcp-Method` or `Mcp-Name`
 * missing or unlike the body → `-32020` (only `Mcp-Name` is decoded when
 * `=?base64?…?=`); a `_meta` log level that is none of the MCP levels →
 * `-32602`. Every refusal is HTTP 400 and echoes the request id.
 */
export function checkEnvelope(
  id: JsonRpcId,
  method: string,
  params: Record<string, unknown>,
  header: HeaderReader,
  supported: readonly string[] = MODERN_PROTOCOL_VERSIONS,
): ModernRequest {
  const meta = params._meta;
  const m = (typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {}) as Record<
    string,
    unknown
  >;
  const version = m[META.protocolVersion];
  const caps = m[META.clientCapabilities];
  if (typeof version !== 'string' || typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw invalidParams(
      id,
      `_meta must carry ${META.protocolVersion} (a string) and ${META.clientCapabilities} (an object)`,
    );
  }
  // The header must mirror the body before the version itself is judged (a mismatch is -32020, not -32022).
  mirror(id, header('mcp-protocol-version'), version, 'MCP-Protocol-Version', plainHeaderValue);
  if (!isModernProtocolVersion(version)) {
    throw unsupportedProtocolVersion(version, supported, id);
  }
  mirror(id, header('mcp-method'), method, 'Mcp-Method', plainHeaderValue);
  const nameKey = NAMED[method];
  if (nameKey) {
    const name = params[nameKey];
    if (typeof name !== 'string') throw invalidParams(id, `${nameKey} must be a string`);
    mirror(id, header('mcp-name'), name, 'Mcp-Name', decodeHeaderValue);
  }
  const level = m[META.logLevel];
  if (level !== undefined && (typeof level !== 'string' || !LOG_LEVELS.includes(level))) {
    // server/utilities/logging, "Error Handling": an unrecognized level is rejected with -32602.
    throw invalidParams(id, `${META.logLevel} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    id,
    method,
    params,
    version,
    clientCapabilities: caps as Record<string, unknown>,
    logLevel: level,
  };
}

/** 400 `-32602` answering request `id`. */
function invalidParams(id: JsonRpcId, what: string): BridgeHttpError {
  return new BridgeHttpError(400, JsonRpcCode.InvalidParams, `Invalid params: ${what}`, {}, id);
}

/**
 * `-32020` unless header `name`, read with `read`, equals `expected`: {@link decodeHeaderValue}
 * for `Mcp-Name`, the one standard header that permits the Base64 sentinel; `plainHeaderValue`
 * (trimmed, never decoded) for `MCP-Protocol-Version` and `Mcp-Method`, so a sentinel-encoded one
 * is compared as sent and mismatches.
 */
function mirror(
  id: JsonRpcId,
  raw: string | null,
  expected: string,
  name: string,
  read: (raw: string) => string | undefined,
): void {
  if (raw !== null && read(raw) === expected) return;
  throw headerMismatch(id, name, raw === null ? 'is required' : 'does not match the request body');
}

/** 400 `-32020` (HeaderMismatch) answering request `id`: header `name` `what`. */
export function headerMismatch(id: JsonRpcId, name: string, what: string): BridgeHttpError {
  return new BridgeHttpError(
    400,
    JsonRpcCode.HeaderMismatch,
    `Header mismatch: ${name} header ${what}`,
    {},
    id,
  );
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
