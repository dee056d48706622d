import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import { ManualClock } from '../../src/clock.js';
import { RedisStore } from '../../src/redis.js';
import { keyvStore, MemoryStore, type Store } from '../../src/store/index.js';
import { startRedis, type RedisServer } from '@mcp-gateway/testkit';

let redis: RedisServer;
const opened: Store[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => {});
  await redis?.stop();
});

type Factory = (clock: ManualClock) => Store;
let ns = 0;
const factories: Record<string, Factory> = {
  memory: (clock) => new MemoryStore({ clock }),
  'keyvStore(new Keyv())': (clock) => keyvStore(new Keyv(), { clock }),
  redis: (clock) => {
    const s = new RedisStore({ url: redis.url, namespace: `t${++ns}`, clock });
    opened.push(s);
    return s;
  },
};

describe.each(Object.keys(factories))('store contract: %s', (name) => {
  const make = () => {
    const clock = new ManualClock(1_700_000_000_000);
    return { clock, store: factories[name]!(clock) };
  };

  it('get returns what set stored, as a copy', async () => {
    const { store } = make();
    const value = { a: 1, list: ['x'] };
    await store.set('k', value);
    value.list.push('mutated');
    expect(await store.get('k')).toEqual({ a: 1, list: ['x'] });
    expect(await store.get('missing')).toBeUndefined();
  });

  it('entries expire when the clock passes their TTL', async () => {
    const { store, clock } = make();
    await store.set('k', 'v', 1000);
    clock.advance(999);
    expect(await store.get('k')).toBe('v');
    clock.advance(1);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.take('k')).toBeUndefined();
  });

  it('delete removes and reports whether something was removed', async () => {
    const { store } = make();
    await store.set('k', 1);
    expect(await store.delete('k')).toBe(true);
    expect(await store.delete('k')).toBe(false);
    expect(await store.get('k')).toBeUndefined();
  });

  it('take is single-use: 50 concurrent takes of one key succeed exactly once', async () => {
    const { store } = make();
    await store.set('code', { sub: 'u1' }, 60_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.take('code')));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toEqual([{ sub: 'u1' }]);
    expect(await store.get('code')).toBeUndefined();
  });

  it('increment counts atomically within a fixed window', async () => {
    const { store } = make();
    const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment('ctr', 60_000)));
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('sets add, remove and list members without duplicates', async () => {
    const { store } = make();
    expect(await store.members('s')).toEqual([]);
    await Promise.all(['a', 'b', 'a', 'c'].map((m) => store.addToSet('s', m)));
    expect((await store.members('s')).sort()).toEqual(['a', 'b', 'c']);
    await store.removeFromSet('s', 'b');
    expect((await store.members('s')).sort()).toEqual(['a', 'c']);
  });
});

describe('RedisStore specifics', () => {
  it('two stores on one Redis and namespace see the same data', async () => {
    const a = new RedisStore({ url: redis.url, namespace: 'shared' });
    const b = new RedisStore({ url: redis.url, namespace: 'shared' });
    const other = new RedisStore({ url: redis.url, namespace: 'other' });
    opened.push(a, b, other);
    await a.set('k', 'from-a');
    expect(await b.get('k')).toBe('from-a');
    expect(await other.get('k')).toBeUndefined();
    const [x, y] = await Promise.all([a.take('k'), b.take('k')]);
    expect([x, y].filter(Boolean)).toEqual(['from-a']);
  });

  it('Redis drops the key itself after the TTL (no garbage left behind)', async () => {
    const s = new RedisStore({ url: redis.url, namespace: 'ttl' });
    opened.push(s);
    await s.set('k', 'v', 30);
    await expect.poll(() => s.get('k'), { interval: 20, timeout: 2000 }).toBeUndefined();
  });
});

describe('keyvStore sweeping', () => {
  it('expired entries nobody reads again are swept from the backend on later writes', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const map = new Map<string, unknown>();
    const store = keyvStore(new Keyv({ store: map }), { clock, sweepIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) await store.increment(`rl:${i}`, 60_000);
    await store.set('forever', 1);
    await store.set('long', 1, 3_600_000);
    expect(map.size).toBe(102);
    clock.advance(61_000);
    await store.set('trigger', 1);
    await expect.poll(() => map.size).toBe(3);
    expect(await store.get('forever')).toBe(1);
    expect(await store.get('long')).toBe(1);
  });
});
