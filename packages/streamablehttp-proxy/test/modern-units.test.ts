import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sameEnv } from '../src/modern/pool.js';
import { Ticker, type Ticking } from '../src/modern/ticker.js';

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

describe('2026 calls: the shared ticker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks what is registered with the clock time, stops its timer once nothing is, and restarts on demand', () => {
    vi.useFakeTimers();
    let now = 1000;
    const ticker = new Ticker({ now: () => now }, 5);
    const seen: number[] = [];
    const item: Ticking = { tick: (t) => seen.push(t) };
    ticker.add(item);
    vi.advanceTimersByTime(30);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((t) => t === 1000)).toBe(true);
    ticker.delete(item);
    const count = seen.length;
    now = 2000;
    vi.advanceTimersByTime(30);
    expect(seen.length).toBe(count);
    expect((ticker as unknown as { timer: unknown }).timer).toBeUndefined();
    ticker.add(item);
    vi.advanceTimersByTime(30);
    expect(seen.at(-1)).toBe(2000);
    ticker.close();
  });
});
