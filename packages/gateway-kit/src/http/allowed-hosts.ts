/**
 * DNS-rebinding protection: the gateway takes its own origin from the `Host`
 * header (or a trusted `X-Forwarded-Host`), so it answers only the names it
 * is known by. The semantics are the stdio bridge's `allowedHosts`: host
 * names are compared without port, lower-cased, IPv6 without brackets; a
 * loopback issuer admits every loopback name (`localhost`, 127.0.0.0/8,
 * `::1`), so a local gateway answers on both 127.0.0.1 and localhost.
 */
import { hostnameOf, isLoopbackHost } from '@mcp-gateway/streamablehttp-proxy';

/** Paths that answer on any host: probes and the ForwardAuth check carry no browser state. */
const ANY_HOST_PATHS = new Set(['/healthz', '/readyz', '/verify']);

/** Which `Host` values the gateway answers. */
export class HostPolicy {
  private readonly fixed: Set<string>;
  private readonly loopback: boolean;

  /**
   * @param issuer the public URL; its host is always admitted.
   * @param allowedHosts further host names (`allowedHosts` in the config).
   * @param dynamicHosts hosts that may change at runtime (host-routed services,
   *   protected resources), asked only when a host is not in the fixed set.
   */
  constructor(
    issuer: string,
    allowedHosts: readonly string[],
    private readonly dynamicHosts: () => Iterable<string> = () => [],
  ) {
    const own = hostnameOf(new URL(issuer).host);
    this.loopback = isLoopbackHost(own);
    this.fixed = new Set([own, ...allowedHosts.map(hostnameOf)]);
  }

  /** True when a request for `host` (a `Host` value, port allowed) is for this gateway. */
  allows(host: string): boolean {
    const name = hostnameOf(host);
    if (this.fixed.has(name) || (this.loopback && isLoopbackHost(name))) return true;
    for (const h of this.dynamicHosts()) if (hostnameOf(h) === name) return true;
    return false;
  }

  /** True when `pathname` (relative to the issuer) answers whatever the host. */
  static exempt(pathname: string | undefined): boolean {
    return pathname !== undefined && ANY_HOST_PATHS.has(pathname);
  }
}

/** The answer to a request for a host this gateway does not serve (RFC 9110 §15.5.20). */
export function misdirected(): Response {
  return Response.json(
    { error: 'misdirected_request', error_description: 'this server does not serve the requested host' },
    { status: 421, headers: { 'cache-control': 'no-store' } },
  );
}
