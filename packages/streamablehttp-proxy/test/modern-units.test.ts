import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameEnv } from '../src/modern/pool.js';

/** The rule `sameEnv` replaces: sorted names and values, compared as text. */
const keyOf = (env: Record<string, string> | undefined) =>
  Object.keys(env ?? {})
    .sort()
    .map((k) => `${k}\0${env![k]}\0`)
    .join('');

describe('2026 child pool: header-given environments', () => {
  it('a child serves a caller only with the same names and values, in any order; none and {} are equal', () => {
    expect(sameEnv(undefined, undefined)).toBe(true);
    expect(sameEnv(undefined, {})).toBe(true);
    expect(sameEnv({ A: '1', B: '2' }, { B: '2', A: '1' })).toBe(true);
    expect(sameEnv({ A: '1' }, { A: '2' })).toBe(false);
    expect(sameEnv({ A: '1' }, { A: '1', B: '2' })).toBe(false);
    expect(sameEnv({ A: '1', B: '2' }, { A: '1' })).toBe(false);
    expect(sameEnv(undefined, { A: '' })).toBe(false);
    const env = fc.option(fc.dictionary(fc.constantFrom('A', 'B', 'C'), fc.constantFrom('', 'x', 'y')), {
      nil: undefined,
    });
    fc.assert(fc.property(env, env, (a, b) => sameEnv(a, b) === (keyOf(a) === keyOf(b))));
  });
});
