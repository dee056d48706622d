import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { publicAddress } from '../src/http/public-url.js';

const issuer = new URL('https://gw.example');
const at = (url: string, headers: Record<string, string> = {}) =>
  publicAddress({ url, header: (n) => headers[n], remoteAddress: '10.0.0.1' }, false, issuer);

describe('publicAddress', () => {
  it('the pathname of a request-line path is what new URL makes of it (dot segments, escapes, queries)', () => {
    const segment = fc.oneof(
      fc.constantFrom('.', '..', '', 'mcp', 'a.b', '%2e', '%2E%2e', 'x%20y', '~u', 'é', 'a b', '\\'),
      fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '-', '_', '~', '%', '2', 'e', ';', ':', '@') }),
    );
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 6 }),
        fc.constantFrom('', '?q=1', '#f', '?a/../b'),
        (segs, tail) => {
          const url = `/${segs.join('/')}${tail}`;
          let expected: string | undefined;
          try {
            expected = new URL(url, 'http://localhost').pathname;
          } catch {
            // e.g. a path starting "/\\" reads as an authority with no host: refused the same way
          }
          if (expected === undefined) expect(() => at(url)).toThrow();
          else expect(at(url).pathname).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('host, origin and client address, with and without trustProxy', () => {
    expect(at('/fetch/mcp', { host: 'GW.example:443' })).toEqual({
      origin: 'https://gw.example',
      host: 'gw.example',
      pathname: '/fetch/mcp',
      clientIp: '10.0.0.1',
    });
    const proxied = publicAddress(
      {
        url: '/x/mcp?y',
        header: (n) =>
          ({
            host: 'internal:8080',
            'x-forwarded-host': 'Public.example',
            'x-forwarded-for': '203.0.113.9, 10.0.0.2',
          })[n],
        remoteAddress: '10.0.0.2',
      },
      true,
      issuer,
    );
    expect(proxied).toEqual({
      origin: 'https://public.example',
      host: 'public.example',
      pathname: '/x/mcp',
      clientIp: '203.0.113.9',
    });
  });
});
