// The gateway's own pages (/account and friends): behind the authorization
// server's per-source rate limiter, and an anonymous visit writes nothing to
// the store. A real gateway on 127.0.0.1 whose store records every write.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock, MemoryStore, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const gateways: Gateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(0)));
});

/** A memory store that records the key of every write (set, increment, set membership). */
function recordingStore(): { store: Store; writes: { op: string; key: string }[] } {
  const inner = new MemoryStore();
  const writes: { op: string; key: string }[] = [];
  const store: Store = {
    get: (key) => inner.get(key),
    take: (key) => inner.take(key),
    members: (key) => inner.members(key),
    close: () => inner.close(),
    set: (key, value, ttl) => (writes.push({ op: 'set', key }), inner.set(key, value, ttl)),
    delete: (key) => (writes.push({ op: 'delete', key }), inner.delete(key)),
    increment: (key, ttl) => (writes.push({ op: 'increment', key }), inner.increment(key, ttl)),
    compareAndSet: (key, expected, value) => (
      writes.push({ op: 'compareAndSet', key }),
      inner.compareAndSet(key, expected, value)
    ),
    addToSet: (key, m) => (writes.push({ op: 'addToSet', key }), inner.addToSet(key, m)),
    removeFromSet: (key, m) => (writes.push({ op: 'removeFromSet', key }), inner.removeFromSet(key, m)),
  };
  return { store, writes };
}

/**
 * The limiter counts in fixed one-minute windows of the authorization server's clock: on a clock
 * that stands still (until a test moves it), a burst lands in one window however long it takes.
 */
async function start() {
  const { config } = resolveConfig(
    { issuer: 'http://127.0.0.1:8080', listen: { host: '127.0.0.1', port: 0 }, services: {} },
    { env: {} },
  );
  const { store, writes } = recordingStore();
  const clock = new ManualClock();
  const gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    store,
    clock,
  });
  gateways.push(gw);
  const url = await gw.listen();
  return { url, writes, clock };
}

const visit = (url: string) => fetch(`${url}/account`, { redirect: 'manual' });

/** `n` anonymous GET /account one after another; the distinct statuses, sorted. */
async function burst(url: string, n: number): Promise<number[]> {
  const statuses = new Set<number>();
  for (let i = 0; i < n; i++) {
    const res = await visit(url);
    statuses.add(res.status);
    await res.body?.cancel();
  }
  return [...statuses].sort();
}

describe('pages: rate limit and store writes', () => {
  it('200 anonymous GET /account write no store entry (only the source counter of the rate limiter)', async () => {
    const { url, writes } = await start();
    writes.length = 0;
    expect(await burst(url, 200)).toEqual([303, 429]);
    expect(writes.filter((w) => w.op !== 'increment')).toEqual([]);
    expect(new Set(writes.map((w) => w.key))).toEqual(
      new Set([expect.stringMatching(/^rl:pages:127\.0\.0\.1:\d+$/)]),
    );
  });

  it('with the file store, a burst of anonymous GET /account leaves the store file untouched', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'gw-pages-'));
    const { config } = resolveConfig(
      {
        issuer: 'http://127.0.0.1:8080',
        listen: { host: '127.0.0.1', port: 0 },
        services: {},
        store: { type: 'file' },
      },
      { env: {} },
    );
    const gw = await createGateway(config, {
      logger: createLogger('silent'),
      processMetrics: false,
      cwd,
      clock: new ManualClock(),
    });
    gateways.push(gw);
    const url = await gw.listen();
    const file = path.join(cwd, '.mcp-gateway', 'store.json');
    // Start-up writes (signing keys, the admin user) are done once a first request is answered.
    await (await fetch(`${url}/healthz`)).text();
    const before = [readFileSync(file, 'utf8'), statSync(file).mtimeMs];
    expect(await burst(url, 100)).toEqual([303, 429]);
    expect([readFileSync(file, 'utf8'), statSync(file).mtimeMs]).toEqual(before);
  });

  it('a burst from one source gets 429 with Retry-After after 60 page requests a minute; the next minute admits again', async () => {
    const { url, clock } = await start();
    for (let i = 0; i < 60; i++) {
      const res = await visit(url);
      expect(res.status).toBe(303);
      await res.body?.cancel();
    }
    for (const path of ['/account', '/account/callback?state=x&code=y', '/account/logout']) {
      const res = await fetch(`${url}${path}`, { redirect: 'manual' });
      expect([path, res.status]).toEqual([path, 429]);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toBe('Too many requests: try again later.\n');
    }
    clock.advance(60_000);
    const next = await visit(url);
    expect(next.status).toBe(303);
    await next.body?.cancel();
  });

  it('the sign-in redirect carries state and PKCE challenge; the login cookie binds them to the browser', async () => {
    const { url } = await start();
    const res = await visit(url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.pathname).toBe('/authorize');
    const state = location.searchParams.get('state')!;
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('mcp-account-login='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie.split(';')[0]).toMatch(new RegExp(`^mcp-account-login=${state}\\.[A-Za-z0-9_-]{43}$`));
    // A callback whose state is not the cookie's is refused.
    const forged = await fetch(`${url}/account/callback?state=other&code=c`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('Sign-in failed');
  });
});
