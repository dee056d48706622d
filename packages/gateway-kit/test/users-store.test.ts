// Local users in a real embedded store shared by several processes: one
// record per user, so writers of different users never drop each other.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword, type LocalUser } from '@mcp-gateway/oauth-dynamicclient';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.js';
import { LocalUsers, USER_INDEX_KEY, userKey, USERS_KEY } from '../src/gateway/users.js';
import { storeSocketPath } from '../src/store/store-socket-protocol.js';
import { serveStore } from '../src/store/store-socket-server.js';
import { inChild } from './helpers/store-child.js';

const WEAK = { N: 1024, r: 8, p: 1 };
const STRONG = { N: 2048, r: 8, p: 1 };

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of opened.reverse()) await s.close().catch(() => {});
});

function openStore(file = path.join(mkdtempSync(path.join(tmpdir(), 'gw-users-')), 'store.mdb')) {
  const store = new EmbeddedStore({ path: file });
  opened.push(store);
  return { file, store };
}

/** Opens a store served on its socket, as a running gateway's: child processes go through it. */
async function servedStore() {
  const { file, store } = openStore();
  opened.push(await serveStore(store, storeSocketPath(file)));
  return { file, store };
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Child code: `users.put` of every name at once (each its own read and write, as `users add` or a sign-in upgrade does). */
const putAll = (
  list: string[],
) => `const users = new kit.LocalUsers(store, { passwordCost: ${JSON.stringify(WEAK)} });
await Promise.all(${JSON.stringify(list)}.map((name) => users.put(name, name + '-password')));`;

describe('local users shared by processes', () => {
  it('users: two processes each adding 25 users at once to one store keep all 50', async () => {
    const { file, store } = await servedStore();
    const a = names('ann', 25);
    const b = names('bob', 25);
    await Promise.all([inChild(file, putAll(a)), inChild(file, putAll(b))]);
    const listed = (await new LocalUsers(store).list()).map((u) => u.username).sort();
    expect(listed).toEqual([...a, ...b].sort());
  }, 60_000);

  it('users upgrade: 25 hash upgrades at once in one process while another adds 25 users lose no user and no upgrade', async () => {
    const { file, store } = await servedStore();
    const old = names('old', 25);
    const seeded = new LocalUsers(store, { passwordCost: WEAK });
    for (const name of old) await seeded.put(name, `${name}-password`);
    const stronger = await hashPassword('any-password', STRONG);
    const upgrading = `const users = new kit.LocalUsers(store);
await Promise.all(${JSON.stringify(old)}.map(async (name) => {
  const user = await users.get(name);
  if (!(await users.upgradeHash(name, user.passwordHash, ${JSON.stringify(stronger)}))) throw new Error('not upgraded: ' + name);
}));`;
    const added = names('new', 25);
    await Promise.all([inChild(file, upgrading), inChild(file, putAll(added))]);
    const all = await new LocalUsers(store).all();
    expect(Object.keys(all).sort()).toEqual([...old, ...added].sort());
    for (const name of old) expect(all[name]!.passwordHash, name).toBe(stronger);
  }, 60_000);

  it('users upgrade: only over the same hash; a user removed meanwhile stays removed', async () => {
    const { store } = openStore();
    const users = new LocalUsers(store, { passwordCost: WEAK });
    await users.put('alice', 'alice-password');
    await users.put('bob', 'bob-password');
    const before = (await users.get('alice'))!.passwordHash;
    const stronger = await hashPassword('alice-password', STRONG);
    expect(await users.upgradeHash('alice', 'scrypt$other', stronger)).toBe(false);
    expect(await users.remove('alice')).toBe(true);
    expect(await users.upgradeHash('alice', before, stronger)).toBe(false);
    expect(await users.get('alice')).toBeUndefined();
    expect(await store.members(USER_INDEX_KEY)).toEqual(['bob']);
  });

  it('users add: of concurrent adds of one name (any case) exactly one succeeds', async () => {
    const { store } = openStore();
    const users = new LocalUsers(store, { passwordCost: WEAK });
    const results = await Promise.all(
      ['carol', 'Carol', 'CAROL', 'carol'].map((n, i) => users.add(n, `password-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await users.list()).toHaveLength(1);
    expect(await users.add('carol', 'password-x')).toBe(false);
  });

  it('users import: an old one-record `gateway:users` becomes one record per user, once; a user already stored on its own key is kept', async () => {
    const { store } = openStore();
    const record = (username: string, passwordHash: string, name?: string): LocalUser => ({
      username,
      passwordHash,
      ...(name ? { name } : {}),
    });
    await store.set(USERS_KEY, {
      alice: record('alice', 'scrypt$old-a', 'Alice'),
      bob: record('Bob', 'scrypt$old-b'),
    });
    // Written by a newer process before this one imported: it wins over the old record.
    await store.set(userKey('bob'), record('Bob', 'scrypt$new-b'));
    const [one, two] = [new LocalUsers(store), new LocalUsers(store)];
    const [a, b] = await Promise.all([one.all(), two.all()]);
    const expected = { alice: record('alice', 'scrypt$old-a', 'Alice'), bob: record('Bob', 'scrypt$new-b') };
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
    expect(await store.get(USERS_KEY)).toBeUndefined();
    expect((await store.members(USER_INDEX_KEY)).sort()).toEqual(['alice', 'bob']);
    // Once imported, removing a user is final: a later start imports nothing.
    expect(await one.remove('alice')).toBe(true);
    expect(await new LocalUsers(store).all()).toEqual({ bob: record('Bob', 'scrypt$new-b') });
  });
});
