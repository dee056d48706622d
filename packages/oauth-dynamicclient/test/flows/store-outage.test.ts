import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  freePort,
  killAllSpawned,
  listen,
  listenNode,
  startRedis,
  waitFor,
  type Listening,
  type RedisServer,
} from '@mcp-gateway/testkit';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthorizationServer,
  forwardAuthNodeListener,
  keyvStore,
  silentLogger,
  StoreUnavailableError,
  type AuthorizationServer,
} from '../../src/index.js';
import { RedisStore } from '../../src/redis.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { Browser, completeLogin, localUsers, TEST_PASSWORD_COST } from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
/** Every answer during an outage must come within this (connect/command timeouts are 500 ms here). */
const BOUND_MS = 1500;

let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'as-outage-'));
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await killAllSpawned();
  await rm(dir, { recursive: true, force: true });
});

/** A fail-fast Redis store with short timeouts (fast tests). */
const redisStore = (url: string) =>
  new RedisStore({
    url,
    namespace: 'outage',
    connectTimeoutMs: 500,
    commandTimeoutMs: 500,
    reconnectMaxDelayMs: 200,
  });

async function instance(url: string): Promise<{ as: AuthorizationServer; http: Listening; issuer: string }> {
  const late: { as?: AuthorizationServer } = {};
  const http = await listen((r) => late.as!.fetch(r, { remoteAddress: '127.0.0.1' }));
  const as = (late.as = createAuthorizationServer({
    issuer: http.url,
    store: redisStore(url),
    resources: [{ resource: `${http.url}/mcp`, scopes: ['mcp:read'], default: true }],
    logger: silentLogger,
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
  }));
  cleanups.push(
    () => http.close(),
    () => as.close(),
  );
  return { as, http, issuer: http.url };
}

/** Times one request; every outage answer must be quick. */
async function timed(request: Promise<Response>): Promise<Response> {
  const t0 = performance.now();
  const res = await request;
  expect(performance.now() - t0).toBeLessThan(BOUND_MS);
  return res;
}

async function expectUnavailableJson(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error).toBe('temporarily_unavailable');
  expect(body.error_description).toMatch(/storage unavailable/);
  // Nothing about the backend leaks (addresses, error classes).
  expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|redis/i);
}

describe('storage outage: 503 instead of 500, and recovery with nothing lost', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis({ dir });
    cleanups.push(() => redis.stop());
  });

  it('redis killed: /register, /token, /authorize, /verify, /revoke and RFC 7592 answer 503 temporarily_unavailable with Retry-After within a bounded time; after a restart the client, its tokens and its refresh token still work', async () => {
    const { as, issuer } = await instance(redis.url);
    await as.ready();
    const resource = `${issuer}/mcp`;
    const forward = await listenNode(forwardAuthNodeListener(as));
    cleanups.push(() => forward.close());

    // A client with a refresh token and an access token, before the outage.
    const regRes = await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(regRes.status).toBe(201);
    const reg = (await regRes.json()) as { client_id: string; registration_access_token: string };
    const verifier = 'v'.repeat(43);
    const challenge = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
    ).toString('base64url');
    const authorizeUrl = `${issuer}/authorize?${new URLSearchParams({
      client_id: reg.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const cb = await completeLogin(new Browser(), authorizeUrl, REDIRECT);
    const token = (body: Record<string, string>) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: reg.client_id, ...body }),
      });
    const first = (await (
      await token({
        grant_type: 'authorization_code',
        code: cb.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      })
    ).json()) as { access_token: string; refresh_token: string };
    const forwarded = {
      authorization: `Bearer ${first.access_token}`,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(issuer).host,
      'x-forwarded-uri': '/mcp',
    };
    expect((await fetch(`${issuer}/verify`, { headers: forwarded })).status).toBe(200);
    expect(await as.health()).toMatchObject({ ok: true, store: true, started: true });

    // Outage: the process is killed, not shut down.
    redis.process.child.kill('SIGKILL');
    await redis.process.exited;

    await expectUnavailableJson(
      await timed(
        fetch(`${issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
        }),
      ),
    );
    await expectUnavailableJson(
      await timed(token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })),
    );
    await expectUnavailableJson(
      await timed(
        fetch(`${issuer}/register/${reg.client_id}`, {
          headers: { authorization: `Bearer ${reg.registration_access_token}` },
        }),
      ),
    );
    // RFC 7009 must not claim success for a revocation it could not record.
    await expectUnavailableJson(
      await timed(
        fetch(`${issuer}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: reg.client_id, token: first.access_token }),
        }),
      ),
    );
    // ForwardAuth: neither allowed nor refused, through the fetch route and the node listener.
    await expectUnavailableJson(await timed(fetch(`${issuer}/verify`, { headers: forwarded })));
    await expectUnavailableJson(await timed(fetch(`${forward.url}/verify`, { headers: forwarded })));
    // A resource server guarded by requireBearer answers 503 too, not 401.
    const guard = as.requireBearer({ resource, scopes: ['mcp:read'] });
    const check = await guard(new Request(resource, { headers: { authorization: forwarded.authorization } }));
    expect(check.ok).toBe(false);
    if (!check.ok) await expectUnavailableJson(check.response);
    // Browser pages get an HTML page with the same status.
    const page = await timed(fetch(authorizeUrl, { redirect: 'manual' }));
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('temporarily_unavailable');
    // Discovery needs no storage and keeps answering.
    expect((await fetch(`${issuer}/.well-known/oauth-authorization-server`)).status).toBe(200);
    const down = await as.health({ timeoutMs: 1000 });
    expect(down).toMatchObject({ ok: false, store: false });
    expect(down.storeLatencyMs).toBeLessThan(BOUND_MS);

    // Redis comes back on the same port with the same data: the server reconnects by itself.
    await redis.start();
    await waitFor(async () => (await as.health()).ok, { timeoutMs: 10_000, message: 'no recovery' });
    const again = await fetch(`${issuer}/register/${reg.client_id}`, {
      headers: { authorization: `Bearer ${reg.registration_access_token}` },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { client_id: string }).client_id).toBe(reg.client_id);
    expect((await fetch(`${issuer}/verify`, { headers: forwarded })).status).toBe(200);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string };
    expect((await as.verifyAccessToken(next.access_token, { resource })).clientId).toBe(reg.client_id);
    const restarted = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(restarted.status).toBe(302);
  });

  it('redis hung (SIGSTOP): a command fails after commandTimeoutMs with StoreUnavailableError, and works again once it resumes', async () => {
    const store = redisStore(redis.url);
    cleanups.push(() => store.close());
    await store.set('k', 'v');
    process.kill(redis.process.pid, 'SIGSTOP');
    try {
      const t0 = performance.now();
      await expect(store.get('k')).rejects.toBeInstanceOf(StoreUnavailableError);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(BOUND_MS);
    } finally {
      process.kill(redis.process.pid, 'SIGCONT');
    }
    await waitFor(() => store.get('k').catch(() => undefined), { timeoutMs: 10_000 });
    expect(await store.get('k')).toBe('v');
  });
});

describe('storage outage at start-up', () => {
  it('a server whose Redis is not up yet answers 503 (ready() rejects with StoreUnavailableError) and starts serving once Redis is up', async () => {
    const port = await freePort();
    const { as, issuer } = await instance(`redis://127.0.0.1:${port}`);
    const t0 = performance.now();
    await expect(as.ready()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - t0).toBeLessThan(BOUND_MS);
    const register = () =>
      fetch(`${issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
      });
    await expectUnavailableJson(await timed(register()));
    expect((await timed(fetch(`${issuer}/jwks`))).status).toBe(503);
    expect(await as.health({ timeoutMs: 500 })).toMatchObject({ ok: false, store: false, started: false });

    const redis = await startRedis({ port });
    cleanups.push(() => redis.stop());
    await waitFor(async () => (await as.health()).ok, { timeoutMs: 10_000, message: 'never started' });
    await as.ready();
    expect((await register()).status).toBe(201);
    expect(((await (await fetch(`${issuer}/jwks`)).json()) as { keys: unknown[] }).keys).toHaveLength(1);
  });
});

describe('RedisStore on a shared @keyv/redis adapter', () => {
  it('a shared adapter that cannot connect fails within connectTimeoutMs with StoreUnavailableError', async () => {
    const adapter = new KeyvRedis(`redis://127.0.0.1:${await freePort()}`);
    cleanups.push(() => adapter.disconnect(true));
    const store = new RedisStore({ keyvRedis: adapter, connectTimeoutMs: 300, commandTimeoutMs: 300 });
    const t0 = performance.now();
    await expect(store.get('k')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - t0).toBeLessThan(BOUND_MS);
  });
});

describe('keyvStore over a failing Keyv backend', () => {
  it('a backend that throws answers 503 temporarily_unavailable, not 500 and not "unknown client"', async () => {
    let failing = false;
    const map = new Map<string, unknown>();
    const guard = <T>(fn: () => T): T => {
      if (failing) throw new Error('backend offline');
      return fn();
    };
    // A Keyv storage adapter (the Map-like contract Keyv accepts) that can be switched off.
    const backend = {
      get: (k: string) => guard(() => map.get(k)),
      set: (k: string, v: unknown) => guard(() => void map.set(k, v)),
      delete: (k: string) => guard(() => map.delete(k)),
      clear: () => guard(() => map.clear()),
      has: (k: string) => guard(() => map.has(k)),
    };
    // A logger with its methods on the prototype (as most logger classes have).
    class Recorder {
      readonly lines: string[] = [];
      debug() {}
      info() {}
      warn(message: string) {
        this.lines.push(`warn ${message}`);
      }
      error(message: string) {
        this.lines.push(`error ${message}`);
      }
    }
    const logger = new Recorder();
    const as = createAuthorizationServer({
      issuer: 'https://as.example.com',
      store: keyvStore(new Keyv({ store: backend })),
      logger,
      clientReapIntervalMs: 0,
    });
    await as.ready();
    const reg = await as.clients.register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    failing = true;
    const res = await as.fetch(
      new Request('https://as.example.com/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: reg.client.client_id,
          code: 'x',
          code_verifier: 'v'.repeat(43),
        }),
      }),
    );
    await expectUnavailableJson(res);
    const again = await as.fetch(new Request(`https://as.example.com/register/${reg.client.client_id}`));
    await expectUnavailableJson(again);
    // One warning per outage minute, not one per request; never a 500-style error line.
    expect(logger.lines).toEqual(['warn storage unavailable']);
    expect(await as.health({ timeoutMs: 500 })).toMatchObject({ ok: false, store: false });
    failing = false;
    expect(await as.health()).toMatchObject({ ok: true, store: true });
    expect((await as.clients.get(reg.client.client_id))?.client_id).toBe(reg.client.client_id);
  });
});
