// One address classifier for every SSRF decision in the repo (fetch-server's pinned fetches,
// oauth-dynamicclient's CIMD and JWKS fetches), inlined into each package at build time. Its
// verdicts are pinned in tests/shared-behaviour.test.ts. Web-standard only (no node: imports), for
// the worker builds. The packages that import it depend on ipaddr.js themselves.
import ipaddr from 'ipaddr.js';

/**
 * What kind of address an IP is, for SSRF decisions. Only `public` may be
 * fetched by default; every other class names a range that reaches inside a
 * network (loopback, RFC 1918, link-local, CGNAT, cloud metadata, ...).
 */
export type AddressRange =
  | 'public'
  | 'invalid'
  | 'unspecified'
  | 'broadcast'
  | 'multicast'
  | 'loopback'
  | 'private'
  | 'linkLocal'
  | 'carrierGradeNat'
  | 'uniqueLocal'
  | 'cloudMetadata'
  | 'reserved';

/** The verdict on one address. */
export interface AddressClassification {
  /** The address as classified (normalised). */
  address: string;
  /** The range the address (or the IPv4 address embedded in it) falls in. */
  range: AddressRange;
  /** True only for globally routable unicast addresses. */
  isPublic: boolean;
  /**
   * Set when the verdict comes from an IPv4 address embedded in an IPv6 one:
   * `ipv4Mapped` (::ffff:a.b.c.d), `ipv4Translated` (::ffff:0:a.b.c.d),
   * `6to4` (2002::/16) or `nat64` (64:ff9b::/96).
   */
  embeddedVia?: 'ipv4Mapped' | 'ipv4Translated' | '6to4' | 'nat64';
  /** The embedded IPv4 address, when `embeddedVia` is set. */
  embedded?: string;
}

/**
 * Well-known cloud metadata endpoints. Most also fall in link-local or
 * unique-local ranges; they are named separately so refusals say what they
 * protect. 168.63.129.16 (Azure WireServer) is otherwise a public address.
 */
const CLOUD_METADATA = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean IMDS
  '169.254.170.2', // AWS ECS task metadata
  '168.63.129.16', // Azure WireServer
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS IMDS over IPv6
]);

const V4_RANGE: Record<string, AddressRange> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'linkLocal',
  loopback: 'loopback',
  carrierGradeNat: 'carrierGradeNat',
  private: 'private',
};

const NAT64_WKP = ipaddr.IPv6.parse('64:ff9b::');
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parse('2000::');

/**
 * True for the canonical text forms that resolvers and WHATWG URL produce (what `node:net`'s
 * `isIP` accepts): dotted-quad decimal IPv4, IPv6 with an optional dotted-quad tail. Legacy forms
 * like `0x7f.1` or `2130706433` would be re-read by the socket layer, so they are refused.
 */
function isCanonical(text: string): boolean {
  if (!text.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(text);
  if (!ipaddr.IPv6.isValid(text)) return false;
  const tail = text.slice(text.lastIndexOf(':') + 1);
  return !tail.includes('.') || ipaddr.IPv4.isValidFourPartDecimal(tail);
}

function v4FromWords(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function classifyV4(ip: ipaddr.IPv4): AddressClassification {
  const address = ip.toString();
  if (CLOUD_METADATA.has(address)) return { address, range: 'cloudMetadata', isPublic: false };
  const range = V4_RANGE[ip.range()] ?? 'reserved';
  return { address, range, isPublic: range === 'public' };
}

function embedded(
  outer: string,
  via: NonNullable<AddressClassification['embeddedVia']>,
  v4: ipaddr.IPv4,
): AddressClassification {
  const inner = classifyV4(v4);
  return {
    address: outer,
    range: inner.range,
    isPublic: inner.isPublic,
    embeddedVia: via,
    embedded: inner.address,
  };
}

function classifyV6(ip: ipaddr.IPv6): AddressClassification {
  const address = ip.toString();
  if (CLOUD_METADATA.has(address)) return { address, range: 'cloudMetadata', isPublic: false };
  const p = ip.parts as [number, number, number, number, number, number, number, number];
  switch (ip.range() as string) {
    case 'unspecified':
      return { address, range: 'unspecified', isPublic: false };
    case 'loopback':
      return { address, range: 'loopback', isPublic: false };
    case 'linkLocal':
    case 'deprecatedSiteLocal':
      return { address, range: 'linkLocal', isPublic: false };
    case 'multicast':
      return { address, range: 'multicast', isPublic: false };
    case 'uniqueLocal':
      return { address, range: 'uniqueLocal', isPublic: false };
    case 'ipv4Mapped':
      return embedded(address, 'ipv4Mapped', v4FromWords(p[6], p[7]));
    case 'rfc6145':
      return embedded(address, 'ipv4Translated', v4FromWords(p[6], p[7]));
    case '6to4':
      return embedded(address, '6to4', v4FromWords(p[1], p[2]));
    case 'rfc6052':
      // 64:ff9b::/96 embeds a public IPv4 address; 64:ff9b:1::/48 is for local use.
      if (ip.match(NAT64_WKP, 96)) return embedded(address, 'nat64', v4FromWords(p[6], p[7]));
      return { address, range: 'reserved', isPublic: false };
    case 'unicast':
      // Only 2000::/3 is global unicast; ::/96 (IPv4-compatible) and friends are not.
      if (ip.match(GLOBAL_UNICAST_V6, 3)) return { address, range: 'public', isPublic: true };
      return { address, range: 'reserved', isPublic: false };
    default:
      // teredo, benchmarking, documentation, orchid, discard, ...
      return { address, range: 'reserved', isPublic: false };
  }
}

/**
 * Classifies an IP address (IPv4 or IPv6 text, with or without brackets) for
 * SSRF decisions. IPv6 forms that embed an IPv4 address (IPv4-mapped,
 * IPv4-translated, 6to4, NAT64) are judged by the embedded address, so
 * `::ffff:127.0.0.1` is loopback. Unparseable or non-canonical input
 * (`1.2.3`, `0x7f.1`) is `invalid`, never public.
 */
export function classifyAddress(input: string): AddressClassification {
  const text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  // Zone ids (fe80::1%eth0) only appear on link-local addresses.
  if (text.includes('%')) return { address: text, range: 'linkLocal', isPublic: false };
  if (!isCanonical(text)) return { address: text, range: 'invalid', isPublic: false };
  const ip = ipaddr.parse(text);
  return ip.kind() === 'ipv4' ? classifyV4(ip as ipaddr.IPv4) : classifyV6(ip as ipaddr.IPv6);
}

/** Human-readable name of a range, for refusal messages. */
export function describeRange(c: AddressClassification): string {
  const names: Record<AddressRange, string> = {
    public: 'public',
    invalid: 'invalid',
    unspecified: 'unspecified',
    broadcast: 'broadcast',
    multicast: 'multicast',
    loopback: 'loopback',
    private: 'private (RFC 1918)',
    linkLocal: 'link-local',
    carrierGradeNat: 'carrier-grade NAT (100.64.0.0/10)',
    uniqueLocal: 'unique-local (fc00::/7)',
    cloudMetadata: 'cloud metadata',
    reserved: 'reserved',
  };
  const base = names[c.range];
  return c.embeddedVia ? `${base} (${c.embedded} embedded as ${c.embeddedVia})` : base;
}

/**
 * The range with its article, for refusal messages: `a loopback address`, `an unspecified address`.
 * With `embedded: false` the IPv4 address an IPv6 one embeds is left out, for a message that must
 * not name an address (what a host name resolved to).
 */
export function describeAddressKind(c: AddressClassification, { embedded = true } = {}): string {
  const range = describeRange(embedded ? c : { address: c.address, range: c.range, isPublic: c.isPublic });
  return `${/^(unspecified|invalid)/.test(range) ? 'an' : 'a'} ${range} address`;
}
