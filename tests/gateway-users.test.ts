// Local users in the embedded store, changed by several processes at once:
// `mcp-gateway users …` commands and a running gateway that upgrades
// password hashes at sign-in. Real child processes on one data dir.
import path from 'node:path';
import { EmbeddedStore, LocalUsers, USERS_KEY } from '@mcp-gateway/gateway-kit';
import { hashPassword, type LocalUser } from '@mcp-gateway/oauth-dynamicclient';
import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizationCodeFlow, freePort, gatewayCli, startGateway, tempDir } from './gateway-helpers.js';

afterAll(async () => {
  await killAllSpawned();
});

/** A cost far below the gateway's: every hash made with it is upgraded at sign-in. */
const WEAK = { N: 1024, r: 8, p: 1 };
const storePath = (cwd: string) => path.join(cwd, '.mcp-gateway', 'store.mdb');

let source = 0;
/** A distinct client address per flow (the gateway believes X-Forwarded-For here), so rate limits stay out of the way. */
const fromNewSource = () => ({ 'x-forwarded-for': `10.9.${(++source >> 8) & 255}.${source & 255}` });

/** Runs `mcp-gateway args…` in `cwd` to completion. */
async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const p = spawnCli(process.execPath, [gatewayCli, ...args], { cwd, env });
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** `users add NAME` for each name, one process after another; each must succeed. */
async function addOneByOne(names: string[], cwd: string, env: NodeJS.ProcessEnv) {
  for (const name of names) {
    const r = await cli(['users', 'add', name, '--password', `${name}-password`], cwd, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
  }
}

/** The user names `users list` prints. */
async function listed(cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await cli(['users', 'list'], cwd, env);
  expect([r.code, r.stderr]).toEqual([0, '']);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[1]!)
    .sort();
}

/** Writes users in the one-record form (`gateway:users`) of earlier versions, with weak hashes. */
async function seedOldRecord(cwd: string, names: string[]) {
  const users: Record<string, LocalUser> = {};
  for (const name of names)
    users[name] = { username: name, passwordHash: await hashPassword(`${name}-password`, WEAK) };
  const store = new EmbeddedStore({ path: storePath(cwd) });
  try {
    await store.set(USERS_KEY, users);
  } finally {
    await store.close();
  }
}

/** Reads stored users straight from the database (as a second process would). */
async function storedUsers(cwd: string) {
  const store = new EmbeddedStore({ path: storePath(cwd) });
  try {
    const all = await new LocalUsers(store).all();
    return { all, oldRecord: await store.get(USERS_KEY) };
  } finally {
    await store.close();
  }
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('local users: one store record per user, so concurrent writers lose nobody', () => {
  it('users add: two series of 10 `users add` processes at once on one data dir keep all 20 users', async () => {
    const cwd = tempDir('gw-users-add-');
    const env = { MCP_GATEWAY__ISSUER: 'http://127.0.0.1:8080' };
    const a = names('ann', 10);
    const b = names('bob', 10);
    await Promise.all([addOneByOne(a, cwd, env), addOneByOne(b, cwd, env)]);
    expect(await listed(cwd, env)).toEqual([...a, ...b].sort());
  }, 180_000);

  it('users add racing sign-ins that upgrade password hashes: every added user and every upgraded hash is kept', async () => {
    const cwd = tempDir('gw-users-upgrade-');
    const old = names('old', 8);
    await seedOldRecord(cwd, old);
    const port = await freePort();
    const env = { MCP_GATEWAY__ISSUER: `http://127.0.0.1:${port}`, MCP_GATEWAY__TRUST_PROXY: 'true' };
    const gw = await startGateway({ cwd, port, env });
    expect(gw.adminPassword).toBeUndefined(); // the imported users count: no first-start admin

    // All at once: each sign-in verifies the weak hash and stores a stronger one, while the CLI adds users.
    const signIn = (name: string) =>
      authorizationCodeFlow(
        gw.url,
        { username: name, password: `${name}-password` },
        { headers: fromNewSource() },
      );
    const added = [...names('cat', 6), ...names('dan', 6)];
    await Promise.all([
      ...old.map((name) => signIn(name)),
      addOneByOne(added.slice(0, 6), cwd, env),
      addOneByOne(added.slice(6), cwd, env),
    ]);

    expect(await listed(cwd, env)).toEqual([...old, ...added].sort());
    const { all, oldRecord } = await storedUsers(cwd);
    expect(oldRecord).toBeUndefined();
    for (const name of old) expect(all[name]?.passwordHash, name).toMatch(/^scrypt\$131072\$8\$1\$/);
    // Sign-in is unchanged: an upgraded user and an added one both get tokens from the running gateway.
    await signIn(old[0]!);
    await signIn(added[added.length - 1]!);
    await gw.cli.kill();
  }, 240_000);

  it('users import: an old `gateway:users` record read by three processes at once becomes one record per user, once', async () => {
    const cwd = tempDir('gw-users-import-');
    const env = { MCP_GATEWAY__ISSUER: 'http://127.0.0.1:8080' };
    const old = names('eve', 5);
    await seedOldRecord(cwd, old);
    const [first, second, add] = await Promise.all([
      listed(cwd, env),
      listed(cwd, env),
      cli(['users', 'add', 'zed', '--password', 'zed-password'], cwd, env),
    ]);
    expect([add.code, add.stderr]).toEqual([0, '']);
    for (const seen of [first, second]) for (const name of old) expect(seen).toContain(name);
    expect(await listed(cwd, env)).toEqual([...old, 'zed'].sort());
    const { all, oldRecord } = await storedUsers(cwd);
    expect(oldRecord).toBeUndefined();
    // Hashes are carried over as they were (upgraded only at sign-in).
    for (const name of old) expect(all[name]?.passwordHash, name).toMatch(/^scrypt\$1024\$8\$1\$/);
  }, 120_000);
});
