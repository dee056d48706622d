import assert from 'node:assert/strict';

/** The slice of oauth-dynamicclient's `Store` the contract checks (structural: testkit imports no package). */
export interface ContractStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  take<T>(key: string): Promise<T | undefined>;
  increment(key: string, ttlMs: number): Promise<number>;
  compareAndSet(key: string, expected: unknown, value: unknown): Promise<boolean>;
  addToSet(key: string, member: string): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  /** Optional in `Store`; every adapter of this repo has it, so the contract requires it. */
  setSize?(key: string): Promise<number>;
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

  async 'setSize counts the members of a set as they are added and removed'(make) {
    const { store } = make();
    const setSize = store.setSize?.bind(store);
    assert.ok(setSize, 'the store has setSize');
    assert.equal(await setSize('s'), 0);
    await Promise.all(['a', 'b', 'a', 'c'].map((m) => store.addToSet('s', m)));
    assert.equal(await setSize('s'), 3);
    await Promise.all(['b', 'b', 'missing'].map((m) => store.removeFromSet('s', m)));
    assert.equal(await setSize('s'), 2);
    await store.addToSet('s2', 'x');
    assert.equal(await setSize('s'), 2);
    await Promise.all(['a', 'c'].map((m) => store.removeFromSet('s', m)));
    assert.equal(await setSize('s'), 0);
    assert.deepEqual(await store.members('s'), []);
  },

  async 'compareAndSet stores only over the expected value; undefined expects none'(make) {
    const { store } = make();
    assert.equal(await store.compareAndSet('k', undefined, { n: 1, tags: ['a'] }), true);
    assert.equal(await store.compareAndSet('k', undefined, { n: 2 }), false);
    assert.equal(await store.compareAndSet('k', { n: 9, tags: ['a'] }, { n: 2 }), false);
    assert.deepEqual(await store.get('k'), { n: 1, tags: ['a'] });
    assert.equal(await store.compareAndSet('k', await store.get('k'), { n: 2 }), true);
    assert.deepEqual(await store.get('k'), { n: 2 });
    // A value that only starts like the expected one does not match.
    await store.set('num', 12);
    assert.equal(await store.compareAndSet('num', 1, 3), false);
    assert.equal(await store.get('num'), 12);
  },

  async 'compareAndSet treats an expired entry as absent and stores without expiry'(make) {
    const { store, clock } = make();
    await store.set('k', 'old', 1000);
    assert.equal(await store.compareAndSet('k', 'old', 'new'), true);
    clock.advance(5000);
    assert.equal(await store.get('k'), 'new');
    await store.set('gone', 'old', 1000);
    clock.advance(1000);
    assert.equal(await store.compareAndSet('gone', 'old', 'x'), false);
    assert.equal(await store.compareAndSet('gone', undefined, 'fresh'), true);
    assert.equal(await store.get('gone'), 'fresh');
  },

  async 'compareAndSet: of 20 concurrent swaps from one value exactly one wins'(make) {
    const { store } = make();
    await store.set('k', { v: 0 });
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.compareAndSet('k', { v: 0 }, { v: i + 1 })),
    );
    assert.equal(wins.filter(Boolean).length, 1);
    assert.deepEqual(await store.get('k'), { v: wins.indexOf(true) + 1 });
  },
};
