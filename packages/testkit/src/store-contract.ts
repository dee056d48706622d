import assert from 'node:assert/strict';

/** The slice of oauth-dynamicclient's `Store` the contract checks (structural: testkit imports no package). */
export interface ContractStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  take<T>(key: string): Promise<T | undefined>;
  increment(key: string, ttlMs: number): Promise<number>;
  addToSet(key: string, member: string): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
}

/** A fresh, empty store whose expiry follows `clock`, which the case moves by hand. */
export type ContractStoreFactory = () => { store: ContractStore; clock: { advance(ms: number): void } };

/**
 * The rules every `Store` adapter keeps, as plain async checks (node:assert),
 * so each package's suite runs the same cases against its adapters:
 * `for (const [rule, check] of Object.entries(storeContract)) it(rule, () => check(make))`.
 */
export const storeContract: Record<string, (make: ContractStoreFactory) => Promise<void>> = {
  async 'get returns what set stored, as a copy'(make) {
    const { store } = make();
    const value = { a: 1, list: ['x'] };
    await store.set('k', value);
    value.list.push('mutated');
    assert.deepEqual(await store.get('k'), { a: 1, list: ['x'] });
    assert.equal(await store.get('missing'), undefined);
  },

  async 'entries expire when the clock passes their TTL'(make) {
    const { store, clock } = make();
    await store.set('k', 'v', 1000);
    clock.advance(999);
    assert.equal(await store.get('k'), 'v');
    clock.advance(1);
    assert.equal(await store.get('k'), undefined);
    assert.equal(await store.take('k'), undefined);
  },

  async 'set replaces the value and its expiry'(make) {
    const { store, clock } = make();
    await store.set('k', 'short', 1000);
    await store.set('k', 'forever');
    clock.advance(5000);
    assert.equal(await store.get('k'), 'forever');
  },

  async 'delete removes and reports whether something was removed'(make) {
    const { store } = make();
    await store.set('k', 1);
    assert.equal(await store.delete('k'), true);
    assert.equal(await store.delete('k'), false);
    assert.equal(await store.get('k'), undefined);
  },

  async 'take is single-use: 50 concurrent takes of one key succeed exactly once'(make) {
    const { store } = make();
    await store.set('code', { sub: 'u1' }, 60_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.take('code')));
    assert.deepEqual(
      results.filter((r) => r !== undefined),
      [{ sub: 'u1' }],
    );
    assert.equal(await store.get('code'), undefined);
  },

  async 'increment counts atomically within a fixed window'(make) {
    const { store } = make();
    const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment('ctr', 60_000)));
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  },

  async 'sets add, remove and list members without duplicates'(make) {
    const { store } = make();
    assert.deepEqual(await store.members('s'), []);
    await Promise.all(['a', 'b', 'a', 'c'].map((m) => store.addToSet('s', m)));
    assert.deepEqual((await store.members('s')).sort(), ['a', 'b', 'c']);
    await store.removeFromSet('s', 'b');
    assert.deepEqual((await store.members('s')).sort(), ['a', 'c']);
    assert.deepEqual(await store.members('s2'), []);
  },
};
