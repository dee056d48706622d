// The shared coarse timer (packages/internal, inlined into the bridge and gateway-kit at build time).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ticker, type Ticking } from '../src/ticker.js';

describe('the shared ticker', () => {
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
