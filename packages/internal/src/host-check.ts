// One "resolve the host once, then check every address" for every SSRF decision that resolves a name
// itself (fetch-server's pinned fetches, gateway-kit's runtime http services and upstream sign-in),
// inlined into each package at build time. What a refusal says, and to whom, stays with each caller.
// Node only (node:net).
import { isIP } from 'node:net';
import { classifyAddress, type AddressClassification } from './address-class.js';
import type { ResolvedAddress, Resolver } from './resolver.js';

/**
 * Every address of `hostname` (bare, no IPv6 brackets): an IP literal is its own one address, a
 * name is what `resolver` answers (possibly nothing: the caller decides what an empty answer means).
 *
 * @throws the resolver's error (e.g. `ENOTFOUND`).
 */
export async function addressesOf(hostname: string, resolver: Resolver): Promise<ResolvedAddress[]> {
  const literal = isIP(hostname);
  return literal !== 0 ? [{ address: hostname, family: literal === 6 ? 6 : 4 }] : resolver(hostname);
}

/** One address `allows` refused: as resolved, and its classification. */
export interface RefusedAddress {
  resolved: ResolvedAddress;
  classification: AddressClassification;
}

/**
 * The first of `addresses` that `allows` refuses (each is classified with the repo's one
 * classifier), or `undefined` when it allows every one. A host is judged by all its addresses: a
 * name with one public and one private record is not safe to follow.
 */
export function firstRefused(
  addresses: readonly ResolvedAddress[],
  allows: (c: AddressClassification) => boolean,
): RefusedAddress | undefined {
  for (const resolved of addresses) {
    const classification = classifyAddress(resolved.address);
    if (!allows(classification)) return { resolved, classification };
  }
  return undefined;
}
