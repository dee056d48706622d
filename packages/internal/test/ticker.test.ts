// The shared coarse timer (packages/internal, inlined into the bridge and gateway-kit at build time).
import v8 from 'node:v8';
import vm from 'node:vm';
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

  it('ticks each item registered at a tick once, while it stays, when items leave and join during it', () => {
    vi.useFakeTimers();
    const ticker = new Ticker({ now: () => 7 }, 5);
    const ticked: string[] = [];
    const late: Ticking = { tick: () => ticked.push('late') };
    const items: Record<string, Ticking> = {};
    for (const name of ['a', 'b', 'c', 'd']) {
      items[name] = {
        tick: () => {
          ticked.push(name);
          if (name === 'a') ticker.delete(items.c!); // another item leaves: not ticked this time
          if (name === 'b') ticker.delete(items.b!); // the item itself leaves
          if (name === 'd') ticker.add(late); // one joins: ticked from the next tick on
        },
      };
      ticker.add(items[name]);
    }
    ticker.add(items.a!); // added twice: still once
    vi.advanceTimersByTime(5);
    expect(ticked).toEqual(['a', 'b', 'd']);
    expect(ticker.size).toBe(3);
    ticked.length = 0;
    ticker.delete(items.b!); // not registered any more: nothing happens
    vi.advanceTimersByTime(5);
    expect(ticked.sort()).toEqual(['a', 'd', 'late']);
    for (const item of [items.a!, items.d!, late]) ticker.delete(item);
    expect(ticker.size).toBe(0);
    ticker.close();
  });

  it('lets items that left die young while others stay registered (no promotion to the old generation)', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
    const ticker = new Ticker({ now: () => 0 }, 60_000);
    gc();
    gc(); // the ticker and its array are old now
    const oldSpace = () =>
      v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
    const before = oldSpace();
    const live: Ticking[] = [];
    // 8,000 requests of 8 KB each, ten in flight at a time, a scavenge every 100: 64 MB in all.
    for (let i = 0; i < 8000; i++) {
      const item = { tick: () => {}, pad: new Array<number>(1000).fill(i) };
      ticker.add(item);
      live.push(item);
      if (live.length > 10) ticker.delete(live.shift()!);
      if (i % 100 === 0) gc({ type: 'minor' });
    }
    // A Set kept about 18 MB of them (every item that was in it at a scavenge); the slots keep 0.1 MB.
    expect(oldSpace() - before).toBeLessThan(4_000_000);
    for (const item of live) ticker.delete(item);
    ticker.close();
  });
});
