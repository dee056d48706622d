import ipaddr from 'ipaddr.js';

/**
 * Where an IP address points, for SSRF decisions:
 * - `public`: global unicast;
 * - `loopback`: 127.0.0.0/8, ::1;
 * - `private`: RFC 1918, carrier-grade NAT, IPv6 unique-local;
 * - `forbidden`: everything else (link-local incl. cloud metadata 169.254.169.254,
 *   unspecified, multicast, broadcast, reserved, NAT64/6to4/Teredo and other
 *   ranges that can tunnel to internal hosts), and anything unparsable.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'forbidden';

/** Classifies an IPv4 or IPv6 address (IPv4-mapped IPv6 is treated as the IPv4 it carries). */
export function classifyAddress(address: string): AddressClass {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) return 'forbidden';
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(bare);
  } catch {
    return 'forbidden';
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).zoneId) return 'forbidden';
  switch (ip.range()) {
    case 'unicast':
      return 'public';
    case 'loopback':
      return 'loopback';
    case 'private':
    case 'uniqueLocal':
    case 'carrierGradeNat':
      return 'private';
    default:
      return 'forbidden';
  }
}

/** Which address classes outbound fetches may reach. */
export interface AddressPolicy {
  /** Allow loopback addresses (tests and local development only). */
  allowLoopback?: boolean;
  /** Allow RFC 1918 / unique-local addresses (for AS and clients on one private network). */
  allowPrivate?: boolean;
}

/** True when `address` may be contacted under `policy`. */
export function isAddressAllowed(address: string, policy: AddressPolicy = {}): boolean {
  const c = classifyAddress(address);
  return (
    c === 'public' ||
    (c === 'loopback' && !!policy.allowLoopback) ||
    (c === 'private' && !!policy.allowPrivate)
  );
}
