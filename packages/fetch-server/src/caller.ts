import type { RequestInfo } from '@mcp-gateway/internal/fetch-handler';

/**
 * What the host knows about one request besides the `Request`: the node
 * edge's socket facts, and the caller's identity when the host authenticated
 * one (the gateway passes its user's id). The identity keys the per-caller
 * fetch limit (`maxConcurrentFetchesPerCaller`); the server never sees tokens.
 */
export interface FetchRequestInfo extends Partial<RequestInfo> {
  /** A stable id of the authenticated caller (e.g. `github:583231`). */
  readonly caller?: string;
}

/** Where the caller rides in the MCP SDKs' `authInfo` (both eras hand it to tool handlers). */
const CALLER_EXTRA = 'mcpGatewayFetchCaller';

/** The `authInfo` the transports carry for a host-given caller. */
export function authInfoFor(caller: string): {
  token: string;
  clientId: string;
  scopes: string[];
  extra: Record<string, unknown>;
} {
  return { token: '', clientId: '', scopes: [], extra: { [CALLER_EXTRA]: caller } };
}

/** The limiter key of a host-given caller in `authInfo`, if any. */
export function callerFromAuthInfo(
  authInfo: { extra?: Record<string, unknown> } | undefined,
): string | undefined {
  const caller = authInfo?.extra?.[CALLER_EXTRA];
  return typeof caller === 'string' ? `user:${caller}` : undefined;
}

let instances = 0;

/**
 * A limiter key for one MCP server instance, the caller when the host named
 * none: a 2025 session (stateful), one HTTP request (stateless, 2026-07-28),
 * or the stdio connection.
 */
export function instanceCaller(): string {
  return `instance:${++instances}`;
}
