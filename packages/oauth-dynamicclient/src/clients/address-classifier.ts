import { classifyAddress as classifyRange } from '@mcp-gateway/internal/address-class';

/**
 * Where an IP address points, for SSRF decisions:
 * - `public`: global unicast (an IPv6 form embedding a public IPv4 address counts as public);
 * - `loopback`: 127.0.0.0/8, ::1;
 * - `private`: RFC 1918, carrier-grade NAT, IPv6 unique-local;
 * - `forbidden`: everything else (link-local, cloud metadata endpoints such as 169.254.169.254
 *   and Azure's 168.63.129.16, unspecified, multicast, broadcast, reserved, non-public addresses
 *   reached through 6to4/NAT64/IPv4-translated forms, Teredo), and anything unparsable.
 *
 * The ranges come from the repo's one address classifier (the private internal package's
 * `address-class`, shared with fetch-server), so both packages refuse the same addresses.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'forbidden';

/** Classifies an IPv4 or IPv6 address (IPv4-mapped IPv6 is treated as the IPv4 it carries). */
export function classifyAddress(address: string): AddressClass {
  const c = classifyRange(address);
  if (c.isPublic) return 'public';
  // Only the IPv4-mapped form reaches the embedded host directly; loopback or private hosts behind
  // a 6to4, NAT64 or translated prefix are refused outright.
  if (c.embeddedVia && c.embeddedVia !== 'ipv4Mapped') return 'forbidden';
  switch (c.range) {
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
