import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  authorizationCodeFlow,
  freePort,
  gatewayCli,
  registerPublicClient,
  startGateway,
  tempDir,
  type IssuedTokens,
  type RegisteredClient,
  type RunningGateway,
} from './gateway-helpers.js';

afterAll(async () => {
  await killAllSpawned();
});

/** Env for a gateway on `port` that believes `X-Forwarded-For`, so each load request counts as its own source. */
const envFor = (port: number) => ({
  MCP_GATEWAY__ISSUER: `http://127.0.0.1:${port}`,
  MCP_GATEWAY__TRUST_PROXY: 'true',
});

let source = 0;
/** A distinct client address per call (rate limits count per source). */
const fromNewSource = () => ({
  'x-forwarded-for': `10.${(++source >> 16) & 255}.${(source >> 8) & 255}.${source & 255}`,
});

const readRegistration = (gw: RunningGateway, c: RegisteredClient) =>
  fetch(`${gw.url}/register/${c.client_id}`, {
    headers: { ...fromNewSource(), authorization: `Bearer ${c.registration_access_token}` },
  });

const refresh = (gw: RunningGateway, t: IssuedTokens) =>
  fetch(`${gw.url}/token`, {
    method: 'POST',
    headers: { ...fromNewSource(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      client_id: t.client.client_id,
      resource: t.resource,
    }),
  });

/** Runs `mcp-gateway args…` in `cwd` to completion. */
async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const p = spawnCli(process.execPath, [gatewayCli, ...args], { cwd, env });
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

describe('embedded store: crash safety of the real gateway', () => {
  it('SIGKILL mid-burst: after a restart every registration answered 201 exists and every issued token still works', async () => {
    const cwd = tempDir('gw-crash-');
    const port = await freePort();
    const env = envFor(port);
    const gw = await startGateway({ cwd, port, env });
    const creds = { username: 'admin', password: gw.adminPassword! };

    const registered: RegisteredClient[] = [];
    const issued: IssuedTokens[] = [];
    let stop = false;
    // Requests cut off by the kill fail; only answers that arrived count.
    const registering = async () => {
      while (!stop) {
        const res = await registerPublicClient(gw.url, fromNewSource()).catch(() => undefined);
        if (res?.status === 201)
          registered.push((await res.json().catch(() => undefined)) as RegisteredClient);
      }
    };
    const signingIn = async () => {
      while (!stop) {
        const t = await authorizationCodeFlow(gw.url, creds, { headers: fromNewSource() }).catch(
          () => undefined,
        );
        if (t) issued.push(t);
      }
    };
    const workers = [registering(), registering(), registering(), signingIn(), signingIn()];
    // Kill while both kinds of writes are in flight.
    await expect
      .poll(() => registered.length >= 60 && issued.length >= 6, { timeout: 45_000, interval: 20 })
      .toBe(true);
    process.kill(-gw.cli.pid, 'SIGKILL');
    const { signal } = await gw.cli.exited;
    expect(signal).toBe('SIGKILL');
    stop = true;
    await Promise.all(workers);
    const answered = registered.filter(Boolean);
    expect(answered.length).toBeGreaterThanOrEqual(60);

    const again = await startGateway({ cwd, port, env });
    expect(again.adminPassword).toBeUndefined(); // the admin user survived: no first start
    for (const c of answered) expect((await readRegistration(again, c)).status, c.client_id).toBe(200);
    for (const t of issued) {
      expect((await readRegistration(again, t.client)).status).toBe(200);
      const res = await refresh(again, t);
      expect(res.status, await res.clone().text()).toBe(200);
    }
    await again.cli.kill();
  }, 120_000);
});

describe('embedded store: the CLI and a running gateway share the database', () => {
  it('users add while the gateway takes registrations: the user can sign in and no write is lost', async () => {
    const cwd = tempDir('gw-cli-store-');
    const port = await freePort();
    const env = envFor(port);
    const gw = await startGateway({ cwd, port, env });

    const registered: RegisteredClient[] = [];
    let stop = false;
    const registering = async () => {
      while (!stop && registered.length < 300) {
        const res = await registerPublicClient(gw.url, fromNewSource());
        expect(res.status).toBe(201);
        registered.push((await res.json()) as RegisteredClient);
      }
    };
    const workers = [registering(), registering()];
    const users = ['dave', 'erin', 'frank'];
    for (const name of users) {
      const added = await cli(['users', 'add', name, '--password', `${name}-password`], cwd, env);
      expect([added.code, added.stderr]).toEqual([0, '']);
    }
    stop = true;
    await Promise.all(workers);
    expect(registered.length).toBeGreaterThan(0);

    // The running gateway sees every user the CLI added: each signs in and gets tokens.
    for (const name of users) {
      const t = await authorizationCodeFlow(
        gw.url,
        { username: name, password: `${name}-password` },
        { headers: fromNewSource() },
      );
      expect((await refresh(gw, t)).status).toBe(200);
    }
    // And the CLI's writes did not drop any of the gateway's.
    for (const c of registered) expect((await readRegistration(gw, c)).status).toBe(200);
    const listed = await cli(['clients', 'list', '--json'], cwd, env);
    const ids = new Set(
      listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { client_id: string }).client_id),
    );
    for (const c of registered) expect(ids.has(c.client_id)).toBe(true);
    await gw.cli.kill();
  }, 120_000);
});

describe('embedded store: the running gateway is its one writer', () => {
  it('serves its store on a private socket; a second gateway on the same store refuses to start; SIGTERM removes the socket', async () => {
    const cwd = tempDir('gw-one-writer-');
    const port = await freePort();
    const gw = await startGateway({ cwd, port, env: envFor(port) });
    const socket = path.join(cwd, '.mcp-gateway', 'store.mdb.sock');
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    const port2 = await freePort();
    const second = await cli([], cwd, envFor(port2));
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/cannot start: the embedded store is in use by another running gateway/);
    // The first gateway still serves, and the CLI still writes through it.
    expect((await registerPublicClient(gw.url, fromNewSource())).status).toBe(201);
    const added = await cli(['users', 'add', 'gina', '--password', 'gina-password'], cwd, envFor(port));
    expect([added.code, added.stderr]).toEqual([0, '']);

    await gw.cli.kill(10_000);
    expect((await gw.cli.exited).signal).toBeNull();
    expect(existsSync(socket)).toBe(false);
    // With no gateway running, the CLI opens the file itself.
    const listed = await cli(['users', 'list'], cwd, envFor(port));
    expect(listed.stdout).toMatch(/gina/);
  }, 120_000);

  it.runIf(existsSync('/proc/self/fd'))(
    'a data dir too long for a unix socket path: on Linux the gateway still serves it, and users add goes through it',
    async () => {
      const cwd = path.join(tempDir('gw-long-sock-'), 'a'.repeat(40), 'b'.repeat(40));
      mkdirSync(cwd, { recursive: true });
      const socket = path.join(cwd, '.mcp-gateway', 'store.mdb.sock');
      expect(Buffer.byteLength(socket)).toBeGreaterThan(103);
      const port = await freePort();
      const gw = await startGateway({ cwd, port, env: envFor(port) });
      expect(statSync(socket).isSocket()).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const added = await cli(['users', 'add', 'hana', '--password', 'hana-password'], cwd, envFor(port));
      expect([added.code, added.stderr]).toEqual([0, '']);
      const t = await authorizationCodeFlow(
        gw.url,
        { username: 'hana', password: 'hana-password' },
        { headers: fromNewSource() },
      );
      expect((await refresh(gw, t)).status).toBe(200);
      const second = await cli([], cwd, envFor(await freePort()));
      expect(second.stderr).toContain(`its socket ${socket} answers`);
      await gw.cli.kill(10_000);
      expect(existsSync(socket)).toBe(false);
    },
    120_000,
  );
});
