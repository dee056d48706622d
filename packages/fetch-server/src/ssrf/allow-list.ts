import ipaddr from 'ipaddr.js';

/**
 * Operator-approved exceptions to the SSRF policy: host names (exact, or
 * `*.example.com` for subdomains) and IP addresses or CIDR ranges
 * (`127.0.0.1`, `10.0.0.0/8`, `::1/128`). Meant for tests and private
 * deployments that must reach an internal service on purpose.
 */
export class AllowList {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  /** @throws {TypeError} on an entry that is neither a host name nor an IP/CIDR. */
  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
      if (bare.includes('/')) {
        try {
          this.cidrs.push(ipaddr.parseCIDR(bare));
        } catch {
          throw new TypeError(`allow-list entry "${raw}" is not a valid CIDR range`);
        }
      } else if (ipaddr.isValid(bare)) {
        const ip = ipaddr.parse(bare);
        this.cidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      } else if (entry.startsWith('*.') && isHostName(entry.slice(2))) {
        this.suffixes.push(entry.slice(1));
      } else if (isHostName(entry)) {
        this.hosts.add(entry.replace(/\.$/, ''));
      } else {
        throw new TypeError(
          `allow-list entry "${raw}" is neither a host name nor an IP address or CIDR range`,
        );
      }
    }
  }

  /** True when nothing is allowed beyond the default policy. */
  get isEmpty(): boolean {
    return this.hosts.size === 0 && this.suffixes.length === 0 && this.cidrs.length === 0;
  }

  /** True when `hostname` (from a URL, lower-case) is allowed by name. */
  allowsHost(hostname: string): boolean {
    const h = hostname.toLowerCase().replace(/\.$/, '');
    return this.hosts.has(h) || this.suffixes.some((s) => h.endsWith(s));
  }

  /** True when `address` falls in an allowed IP or CIDR entry (IPv4-mapped IPv6 matches IPv4 entries). */
  allowsAddress(address: string): boolean {
    if (this.cidrs.length === 0 || !ipaddr.isValid(address)) return false;
    const ip = ipaddr.parse(address);
    const alt =
      ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()
        ? (ip as ipaddr.IPv6).toIPv4Address()
        : undefined;
    for (const [net, bits] of this.cidrs) {
      if (ip.kind() === net.kind() && ip.match(net, bits)) return true;
      if (alt && net.kind() === 'ipv4' && alt.match(net, bits)) return true;
    }
    return false;
  }
}

function isHostName(s: string): boolean {
  return /^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/.test(
    s,
  );
}
