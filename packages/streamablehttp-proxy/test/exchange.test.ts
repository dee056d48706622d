import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathnameOf } from '../src/exchange.js';

describe('request view', () => {
  it('routing: pathnameOf gives what new URL(url).pathname gives, for any path, query and fragment', () => {
    const chars = fc.constantFrom(...'abcXYZ019/_-~.%20?#&=:@!$\'()*+,;[]|"<>`{}\\ é'.split(''));
    fc.assert(
      fc.property(
        fc.string({ unit: chars, maxLength: 30 }),
        fc.constantFrom('127.0.0.1:3000', 'localhost', '[::1]:8080'),
        (rest, host) => {
          const url = `http://${host}/${rest}`;
          expect(pathnameOf(url)).toBe(new URL(url).pathname);
        },
      ),
      { numRuns: 2000 },
    );
    expect(pathnameOf('http://127.0.0.1:3000/mcp?x=1')).toBe('/mcp');
    expect(pathnameOf('http://127.0.0.1:3000/a/../mcp')).toBe('/mcp');
    expect(pathnameOf('http://127.0.0.1:3000')).toBe('/');
  });
});
