import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '@mcp-gateway/oauth-dynamicclient';
import { storeContract } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { storeSocketPath } from '../src/store/store-socket-protocol.js';
import { serveStore, type StoreSocketServer } from '../src/store/store-socket-server.js';
import { inChild } from './helpers/store-child.js';

const opened: EmbeddedStore[] = [];
const sockets: StoreSocketServer[] = [];
afterAll(async () => {
  for (const s of sockets) await s.close().catch(() => {});
  for (const s of opened) await s.close().catch(() => {});
});

/** Serves `store` on its socket, as a running gateway does: other processes then write through it. */
async function serve(store: EmbeddedStore) {
  sockets.push(await serveStore(store, storeSocketPath(store.path)));
}

const tmpDb = () => path.join(mkdtempSync(path.join(tmpdir(), 'gw-embedded-')), 'data', 'store.mdb');

function openStore(
  file = tmpDb(),
  opts: { clock?: ManualClock; sweepBatch?: number; durability?: 'commit' | 'flush' } = {},
) {
  const store = new EmbeddedStore({ path: file, ...opts });
  opened.push(store);
  return store;
}

describe.each(['commit', 'flush'] as const)(
  'store contract: embedded (LMDB), durability %s',
  (durability) => {
    const make = () => {
      const clock = new ManualClock(1_700_000_000_000);
      return { clock, store: openStore(undefined, { clock, durability }) };
    };
    for (const [rule, check] of Object.entries(storeContract)) it(rule, () => check(make));
  },
);

describe('embedded store: persistence and processes', () => {
  it('values survive closing and reopening the database (restart)', async () => {
    const file = tmpDb();
    const a = openStore(file);
    await a.set('client:1', { name: 'x', uris: ['http://127.0.0.1/cb'] });
    await a.addToSet('clients', 'c1');
    await a.close();
    const b = openStore(file);
    expect(await b.get('client:1')).toEqual({ name: 'x', uris: ['http://127.0.0.1/cb'] });
    expect(await b.members('clients')).toEqual(['c1']);
  });

  it('the database files and their folder are private (0600 / 0700)', async () => {
    const file = tmpDb();
    await openStore(file).set('k', 'v');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-lock`).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('a write by another process (through the socket) is seen by this one, and this one’s by it', async () => {
    const file = tmpDb();
    const store = openStore(file);
    await serve(store);
    await store.set('mine', 1);
    const out = await inChild(
      file,
      `process.stdout.write(JSON.stringify(await store.get('mine'))); await store.set('user:bob', 'hash');`,
    );
    expect(out).toBe('1');
    expect(await store.get('user:bob')).toBe('hash');
  }, 60_000);

  it('increment and take are atomic across processes: no count is lost, a code is taken once', async () => {
    const file = tmpDb();
    const store = openStore(file);
    await serve(store);
    await store.set('code', 'the-code', 60_000);
    const child = `const took = await store.take('code');
await Promise.all(Array.from({ length: 200 }, () => store.increment('ctr', 60_000)));
process.stdout.write(took === undefined ? 'none' : 'took');`;
    const [a, b, mine] = await Promise.all([
      inChild(file, child),
      inChild(file, child),
      (async () => {
        const took = await store.take('code');
        await Promise.all(Array.from({ length: 200 }, () => store.increment('ctr', 60_000)));
        return took === undefined ? 'none' : 'took';
      })(),
    ]);
    expect([a, b, mine].filter((t) => t === 'took')).toHaveLength(1);
    expect(await store.increment('ctr', 60_000)).toBe(601);
  }, 60_000);

  it('setSize counts a set written before this process opened it, and an imported store.json set', async () => {
    const file = tmpDb();
    const a = openStore(file);
    await Promise.all(['c1', 'c2', 'c3'].map((m) => a.addToSet('clients', m)));
    await a.close();
    const b = openStore(file);
    expect(await b.setSize('clients')).toBe(3);
    await b.addToSet('clients', 'c4');
    await b.addToSet('clients', 'c4');
    await b.removeFromSet('clients', 'c1');
    expect(await b.setSize('clients')).toBe(3);
    // A set imported from the file store is one array value until its first change.
    b.putManySync([{ key: 'grants', value: ['g1', 'g2'] }]);
    expect(await b.setSize('grants')).toBe(2);
    await b.addToSet('grants', 'g3');
    expect(await b.setSize('grants')).toBe(3);
    expect((await b.members('grants')).sort()).toEqual(['g1', 'g2', 'g3']);
  });

  it('setSize stays exact while another process changes the set through the socket', async () => {
    const file = tmpDb();
    const store = openStore(file);
    await serve(store);
    const [, out] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, (_, i) => store.addToSet('s', `m${i}`))),
      inChild(
        file,
        `await Promise.all(Array.from({ length: 100 }, (_, i) => store.addToSet('s', 'm' + (i + 50))));
await Promise.all(Array.from({ length: 20 }, (_, i) => store.removeFromSet('s', 'm' + (100 + 2 * i))));
process.stdout.write(String(await store.setSize('s')));`,
      ),
    ]);
    expect(Number(out)).toBeGreaterThan(0);
    expect(await store.setSize('s')).toBe((await store.members('s')).length);
    expect(await store.setSize('s')).toBe(130);
  }, 60_000);

  it('keys and set members longer than LMDB allows are stored (by hash) and read back', async () => {
    const store = openStore();
    const key = `rl:register:${'x'.repeat(5000)}`;
    await store.set(key, 7);
    expect(await store.get(key)).toBe(7);
    const member = `grant:${'y'.repeat(3000)}`;
    await store.addToSet(key, 'm');
    await store.addToSet(key, member);
    expect((await store.members(key)).sort()).toEqual([member, 'm']);
    await store.removeFromSet(key, member);
    expect(await store.members(key)).toEqual(['m']);
  });
});

describe('embedded store: expiry sweep', () => {
  it('expired entries are swept by the timer in bounded batches; others stay', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = openStore(undefined, { clock, sweepBatch: 500 });
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      key: `rl:${i}`,
      value: 1,
      expiresAt: clock.now() + 1000,
    }));
    await store.putMany(rows);
    await store.set('forever', 1);
    await store.set('long', 1, 3_600_000);
    expect(store.size).toBe(1202);
    clock.advance(1000); // the sweep timer fires once: one batch
    await expect.poll(() => store.size).toBe(702);
    expect(await store.sweep()).toBe(500);
    expect(await store.sweep()).toBe(200);
    expect(store.size).toBe(2);
    expect(await store.sweep()).toBe(0);
    expect(await store.get('forever')).toBe(1);
    expect(await store.get('long')).toBe(1);
  });

  it('a key rewritten with a later expiry is not swept at its old one', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = openStore(undefined, { clock });
    await store.set('k', 'old', 1000);
    await store.set('k', 'new', 10_000);
    clock.advance(1000);
    await store.sweep();
    expect(await store.get('k')).toBe('new');
  });

  it('close stops the sweep timer', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = openStore(undefined, { clock });
    expect(clock.pendingTimers).toBe(1);
    await store.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
