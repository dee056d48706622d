// One host-name resolver contract for every SSRF decision that resolves a name itself (fetch-server's
// pinned fetches, gateway-kit's runtime http services and upstream sign-in), inlined into each
// package at build time. Node only (node:dns).
import { lookup } from 'node:dns/promises';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to every address it has. Injectable so tests (and
 * deployments with their own DNS policy) can decide what a name means.
 */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver: `dns.promises.lookup(hostname, { all: true })`, in the order the system returns. */
export const systemResolver: Resolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};
