import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import { ManualClock } from '../../src/clock.js';
import { RedisStore } from '../../src/redis.js';
import { keyvStore, MemoryStore, type Store } from '../../src/store/index.js';
import { startRedis, storeContract, type RedisServer } from '@mcp-gateway/testkit';

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

  for (const [rule, check] of Object.entries(storeContract)) it(rule, () => check(make));
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
