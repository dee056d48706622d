import { hostnameOf } from '@mcp-gateway/internal/host';
import { HttpEdgeError, JsonRpcErrorCode } from '../errors.js';

/** Which `Host` and `Origin` values the MCP endpoint accepts. */
export interface HostPolicy {
  allowedHosts: string[] | 'any';
  allowedOrigins: string[] | 'any' | undefined;
}

/**
 * DNS-rebinding and cross-site guard (MCP Streamable HTTP security warning):
 * the `Host` header must name an accepted host, and an `Origin` header, when
 * sent, must be accepted too — by default, an origin on an accepted host.
 *
 * @throws {HttpEdgeError} 403 with JSON-RPC code -32000.
 */
export function checkHostAndOrigin(request: Request, policy: HostPolicy): void {
  const hosts =
    policy.allowedHosts === 'any' ? 'any' : new Set(policy.allowedHosts.map((h) => hostnameOf(h)));
  if (hosts !== 'any') {
    const host = request.headers.get('host') ?? new URL(request.url).host;
    if (!hosts.has(hostnameOf(host))) {
      throw new HttpEdgeError(403, JsonRpcErrorCode.ServerError, 'Forbidden: Host header not allowed');
    }
  }
  const origin = request.headers.get('origin');
  if (origin === null || policy.allowedOrigins === 'any') return;
  let ok: boolean;
  if (policy.allowedOrigins) {
    ok = policy.allowedOrigins.some((o) => o.toLowerCase() === origin.toLowerCase());
  } else if (hosts === 'any') {
    ok = true;
  } else {
    ok = URL.canParse(origin) && hosts.has(hostnameOf(new URL(origin).host));
  }
  if (!ok) throw new HttpEdgeError(403, JsonRpcErrorCode.ServerError, 'Forbidden: Origin not allowed');
}
