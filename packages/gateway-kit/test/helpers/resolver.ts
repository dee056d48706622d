import type { Resolver } from '../../src/http/address-guard.js';

/** A public address that names "resolve" to in tests; nothing is ever sent to it. */
export const PUBLIC = '93.184.215.14';

/** What a name resolves to: its addresses, or a function asked at each lookup. */
type Answer = string[] | (() => string[]);

/**
 * Answers that change from one lookup to the next, as DNS rebinding between two requests would:
 * the first lookup gets `answers[0]`, the next `answers[1]`, …, and every later one the last.
 */
export function perLookup(...answers: string[][]): () => string[] {
  let n = 0;
  return () => answers[Math.min(n++, answers.length - 1)]!;
}

/**
 * A resolver for SSRF tests: `names[host]` is what `host` resolves to (change it to move a name,
 * as DNS rebinding would, or give {@link perLookup} answers); any other name is ENOTFOUND, never
 * the system's DNS.
 */
export function testResolver(): { names: Record<string, Answer>; resolver: Resolver } {
  const names: Record<string, Answer> = {};
  const resolver: Resolver = async (hostname) => {
    const answer = names[hostname];
    const found = typeof answer === 'function' ? answer() : answer;
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { names, resolver };
}
