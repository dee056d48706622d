import type { Resolver } from '../../src/http/address-guard.js';

/** A public address that names "resolve" to in tests; nothing is ever sent to it. */
export const PUBLIC = '93.184.215.14';

/**
 * A resolver for SSRF tests: `names[host]` is what `host` resolves to (change it to move a name,
 * as DNS rebinding would); any other name is ENOTFOUND, never the system's DNS.
 */
export function testResolver(): { names: Record<string, string[]>; resolver: Resolver } {
  const names: Record<string, string[]> = {};
  const resolver: Resolver = async (hostname) => {
    const found = names[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { names, resolver };
}
