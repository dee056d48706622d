import {
  createAuthorizationServer,
  DEFAULT_PASSWORD_COST,
  hashPassword,
  MemoryStore,
  silentLogger,
  verifyPassword,
  type AuthorizationServer,
  type LocalUser,
} from '@mcp-gateway/oauth-dynamicclient';
import { describe, expect, it } from 'vitest';
import { liveLocalIdentityProvider, LocalUsers, USERS_KEY } from '../src/gateway/users.js';

const ISSUER = 'http://127.0.0.1:8080';
const REDIRECT = 'http://127.0.0.1:7777/cb';
const OLD = { N: 1024, r: 8, p: 1 };
const TARGET = { N: 2048, r: 8, p: 1 };

/** An authorization server over the gateway's live local provider, served in-process. */
async function server(store: MemoryStore, users: LocalUsers, configUsers: LocalUser[] = []) {
  const as: AuthorizationServer = createAuthorizationServer({
    issuer: ISSUER,
    resources: [{ resource: `${ISSUER}/mcp`, default: true }],
    store,
    logger: silentLogger,
    identityProvider: liveLocalIdentityProvider(configUsers, users),
  });
  const reg = await as.clients.register({
    redirect_uris: [REDIRECT],
    client_name: 'users test',
    token_endpoint_auth_method: 'none',
  });
  const call = (path: string, init?: RequestInit) =>
    as.fetch(new Request(`${ISSUER}${path}`, init), { remoteAddress: '127.0.0.1' });
  return { as, call, clientId: reg.client.client_id };
}

/** Signs in through `/authorize` and the login form; returns the status of the form post. */
async function signIn(s: Awaited<ReturnType<typeof server>>, username: string, password: string) {
  const q = new URLSearchParams({
    client_id: s.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  });
  const start = await s.call(`/authorize?${q}`);
  const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
  const form = await (
    await s.call(
      new URL(start.headers.get('location')!).pathname + new URL(start.headers.get('location')!).search,
      { headers: { cookie } },
    )
  ).text();
  const fields = Object.fromEntries(
    [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
  );
  const res = await s.call('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ ...fields, username, password }),
  });
  return res.status;
}

/** A store holding alice with a hash made at an older cost, and a server over it. */
async function storedWithOldHash() {
  const store = new MemoryStore();
  const old = await hashPassword('alice-password', OLD);
  await store.set(USERS_KEY, { alice: { username: 'alice', passwordHash: old } });
  const users = new LocalUsers(store, { passwordCost: TARGET });
  return { old, users, s: await server(store, users) };
}

describe('gateway local users: one password implementation, upgraded at sign-in', () => {
  it('users: new hashes default to scrypt N=2^17, r=8, p=1 (oauth-dynamicclient DEFAULT_PASSWORD_COST); a lower cost is only an explicit option', async () => {
    expect(new LocalUsers(new MemoryStore()).passwordCost).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    expect(new LocalUsers(new MemoryStore()).passwordCost).toEqual(DEFAULT_PASSWORD_COST);
    const users = new LocalUsers(new MemoryStore(), { passwordCost: TARGET });
    await users.put('alice', 'alice-password');
    const stored = (await users.get('alice'))!.passwordHash;
    expect(stored).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await verifyPassword('alice-password', stored)).toBe(true);
  });

  it('users upgrade: a stored hash with old parameters signs in and is replaced in the store by one with the current cost', async () => {
    const { old, users, s } = await storedWithOldHash();
    expect(await signIn(s, 'alice', 'alice-password')).toBe(303);
    const upgraded = (await users.get('alice'))!.passwordHash;
    expect(upgraded).not.toBe(old);
    expect(upgraded).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await verifyPassword('alice-password', upgraded)).toBe(true);
    // The next sign-in (a fresh provider from the store) uses the new hash and changes nothing.
    expect(await signIn(s, 'alice', 'alice-password')).toBe(303);
    expect((await users.get('alice'))!.passwordHash).toBe(upgraded);
    await s.as.close();
  });

  it('users upgrade: a wrong password upgrades nothing; a password changed in between is not overwritten', async () => {
    const { old, users, s } = await storedWithOldHash();
    expect(await signIn(s, 'alice', 'wrong-password')).toBe(401);
    expect((await users.get('alice'))!.passwordHash).toBe(old);
    await users.put('alice', 'new-password');
    const changed = (await users.get('alice'))!.passwordHash;
    expect(await users.upgradeHash('alice', old, await hashPassword('alice-password', TARGET))).toBe(false);
    expect((await users.get('alice'))!.passwordHash).toBe(changed);
    await s.as.close();
  });
});
