// `http` services: an upstream 2025 session (`Mcp-Session-Id`) is bound to the user who opened it.
// The upstream is a real Streamable HTTP server that binds sessions to nobody (the bridge in front
// of the fixture stdio server, without an identity), so only the gateway keeps users apart.
// The bounds are checked on the memory store, the embedded store and a real Redis (two gateway
// instances sharing it hold maxSessions together).
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock, MemoryStore, storeUnavailable, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { RedisStore } from '@mcp-gateway/oauth-dynamicclient/redis';
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import {
  fixtureMcpServerCommand,
  listen,
  request2026,
  startRedis,
  type Listening,
  type RedisServer,
} from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import type { GatewayConfigInput, HttpServiceConfig } from '../src/config/schema.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { HttpSessionOwners, type HttpSessionLimits } from '../src/services/http-session-owners.js';
import { RecentOwners } from '../src/services/recent-owners.js';
import { ISSUER, rpcResult, testGateways } from './helpers.js';

const { cleanups, gateway } = testGateways();
let bridge: StdioBridge;
let upstream: Listening;
let redis: RedisServer;
/** Every request the upstream received: its method and `Mcp-Session-Id`. */
const seen: { method: string; session: string | null }[] = [];

beforeAll(async () => {
  bridge = createStdioBridge({ ...fixtureMcpServerCommand(), logLevel: 'silent' });
  upstream = await listen((req) => {
    seen.push({ method: req.method, session: req.headers.get('mcp-session-id') });
    return bridge.fetch(req);
  });
  redis = await startRedis();
  // Closed after the gateways (the cleanups run in reverse order).
  cleanups.push(async () => {
    await upstream.close();
    await bridge.close();
    await redis.stop();
  });
});

const reached = (session: string) => seen.filter((s) => s.session === session).length;

/**
 * A gateway with the `api` http service in front of the upstream, and tokens of its users (on
 * `store`, default in memory; its session bindings on `clock`, default the wall clock).
 */
async function start(
  limits: Partial<HttpServiceConfig> = {},
  users = ['alice', 'bob'],
  store?: GatewayConfigInput['store'] | Store,
  clock?: ManualClock,
): Promise<{ gw: Gateway; token: Record<string, string> }> {
  const services = { api: { type: 'http' as const, url: `${upstream.url}/mcp`, ...limits } };
  const given = store && 'get' in store ? store : undefined;
  const configured = store && !('get' in store) ? { store } : {};
  const gw = await gateway(
    { services, ...configured },
    { ...(given ? { store: given } : {}), ...(clock ? { clock } : {}) },
  );
  const token: Record<string, string> = {};
  for (const u of users) {
    await gw.users.put(u, `${u}-password-1`);
    token[u] = (await issueToken(gw, u, 'api')).access_token;
  }
  return { gw, token };
}

const send = (
  gw: Gateway,
  token: string,
  method: 'POST' | 'GET' | 'DELETE',
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  gw.fetch(
    new Request(`${ISSUER}/api/mcp`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json, text/event-stream',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );

const initialize = (id = 0) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

/** Opens a 2025 session as `token`'s user; its request headers. */
async function open(gw: Gateway, token: string): Promise<Record<string, string>> {
  const init = await send(gw, token, 'POST', initialize());
  expect(init.status).toBe(200);
  await init.text();
  const session = {
    'mcp-session-id': init.headers.get('mcp-session-id')!,
    'mcp-protocol-version': '2025-06-18',
  };
  const ack = await send(gw, token, 'POST', { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  expect(ack.status).toBe(202);
  return session;
}

const echo = (text: string, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text } },
});

/** The text `echo` answered in `session`, as `token`'s user. */
async function echoIn(gw: Gateway, token: string, session: Record<string, string>, text: string) {
  const res = await send(gw, token, 'POST', echo(text), session);
  expect(res.status).toBe(200);
  const reply = (await rpcResult(res)) as { result: { content: { text: string }[] } };
  return reply.result.content[0]!.text;
}

/** Expects the gateway's 404 for a session the caller does not own (JSON-RPC -32001). */
async function expectNotFound(res: Response) {
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32001, message: 'Session not found' },
  });
}

/** Expects the gateway to answer a request in `session` with 404 itself: the upstream never sees it. */
async function expectForgotten(gw: Gateway, token: string, session: Record<string, string>) {
  const before = reached(session['mcp-session-id']!);
  await expectNotFound(await send(gw, token, 'POST', echo('forgotten?'), session));
  expect(reached(session['mcp-session-id']!)).toBe(before);
}

const V2025 = '2025-06-18';
type StoreKind = 'memory' | 'embedded' | 'redis';
/** The stores the gateway cases run on. */
const KINDS = ['memory', 'embedded', 'redis'] as const;
let fresh = 0;
/** A fresh memory store, embedded database or Redis prefix, as the gateway's config names it. */
function storeConfig(kind: StoreKind): GatewayConfigInput['store'] {
  if (kind === 'memory') return { type: 'memory' };
  return kind === 'embedded'
    ? { type: 'embedded', path: path.join(mkdtempSync(path.join(tmpdir(), 'gw-sessions-')), 'store.mdb') }
    : { type: 'redis', url: redis.url, prefix: `sessions${++fresh}:` };
}

describe('http services: upstream sessions are bound to the user who opened them', () => {
  it("another user naming A's Mcp-Session-Id gets 404 (POST, GET, DELETE) and the upstream never sees it; A keeps working", async () => {
    const { gw, token } = await start();
    const a = await open(gw, token.alice!);
    expect(await echoIn(gw, token.alice!, a, 'mine')).toBe('mine');
    const before = reached(a['mcp-session-id']!);
    await expectNotFound(await send(gw, token.bob!, 'POST', echo('theirs'), a));
    await expectNotFound(await send(gw, token.bob!, 'GET', undefined, a));
    await expectNotFound(await send(gw, token.bob!, 'DELETE', undefined, a));
    // B's own session too: it cannot be used to reach A's.
    await open(gw, token.bob!);
    await expectNotFound(await send(gw, token.bob!, 'POST', echo('theirs'), a));
    expect(reached(a['mcp-session-id']!)).toBe(before);
    expect(await echoIn(gw, token.alice!, a, 'still mine')).toBe('still mine');
    // 2026-07-28 requests carry no session and pass as before.
    const modern = request2026('tools/call', { name: 'echo', arguments: { text: 'stateless' } });
    const res = await send(gw, token.bob!, 'POST', modern.message, modern.headers);
    expect(res.status).toBe(200);
    expect(await rpcResult(res)).toMatchObject({ result: { content: [{ text: 'stateless' }] } });
  });

  it("the owner's DELETE forgets the session: it is 404 at the gateway from then on", async () => {
    const { gw, token } = await start();
    const a = await open(gw, token.alice!);
    const del = await send(gw, token.alice!, 'DELETE', undefined, a);
    expect(del.status).toBe(200);
    await del.body?.cancel();
    await expectForgotten(gw, token.alice!, a);
  });

  it('an upstream 404 for a session forgets it: the next request is 404 at the gateway', async () => {
    const { gw, token } = await start();
    const a = await open(gw, token.alice!);
    // The upstream ends the session on its own (here: a DELETE straight to it).
    const ended = await fetch(`${upstream.url}/mcp`, { method: 'DELETE', headers: a });
    expect(ended.status).toBe(200);
    const first = await send(gw, token.alice!, 'POST', echo('x'), a);
    expect(first.status).toBe(404);
    await first.body?.cancel();
    await expectForgotten(gw, token.alice!, a);
  });

  it.each(KINDS)(
    "maxSessionsPerUser (%s store): opening one more ends the user's least recently used session, upstream too; others' are untouched",
    async (kind) => {
      const { gw, token } = await start({ maxSessionsPerUser: 2 }, ['alice', 'bob'], storeConfig(kind));
      const b = await open(gw, token.bob!);
      const a1 = await open(gw, token.alice!);
      const a2 = await open(gw, token.alice!);
      const sessionsBefore = bridge.stats().sessions;
      const a3 = await open(gw, token.alice!);
      // Ended at the upstream before a3's answer: one opened, one ended.
      expect(seen.filter((s) => s.method === 'DELETE' && s.session === a1['mcp-session-id'])).toHaveLength(1);
      expect(bridge.stats().sessions).toBe(sessionsBefore);
      await expectForgotten(gw, token.alice!, a1);
      expect(await echoIn(gw, token.alice!, a2, 'two')).toBe('two');
      expect(await echoIn(gw, token.alice!, a3, 'three')).toBe('three');
      expect(await echoIn(gw, token.bob!, b, 'bob')).toBe('bob');
    },
  );

  it('a user looping initialize holds at most maxSessionsPerUser sessions at the upstream', async () => {
    const { gw, token } = await start({ maxSessionsPerUser: 2 });
    const base = bridge.stats().sessions;
    for (let i = 0; i < 4; i++) await open(gw, token.alice!);
    expect(bridge.stats().sessions).toBe(base + 2);
  });

  it('a store failure while binding a new session drops the answer and ends the session upstream', async () => {
    const store = new BindFailingStore();
    const opened: { id: string | null; closed: Promise<void> }[] = [];
    const streaming = await listen(async (req) => {
      seen.push({ method: req.method, session: req.headers.get('mcp-session-id') });
      const res = await bridge.fetch(req);
      if (req.method !== 'POST' || req.headers.get('mcp-session-id')) return res;
      // The initialize answer as an event stream that stays open until the gateway cancels it.
      const reply = await res.text();
      let cancelled!: () => void;
      const closed = new Promise<void>((resolve) => (cancelled = resolve));
      opened.push({ id: res.headers.get('mcp-session-id'), closed });
      const body = new ReadableStream<Uint8Array>({
        start: (c) =>
          c.enqueue(new TextEncoder().encode(reply.includes('data:') ? reply : `data: ${reply}\n\n`)),
        cancel: () => cancelled(),
      });
      return new Response(body, {
        headers: {
          'content-type': 'text/event-stream',
          'mcp-session-id': res.headers.get('mcp-session-id')!,
        },
      });
    });
    cleanups.push(() => streaming.close());
    const gw = await gateway({ services: { api: { type: 'http', url: `${streaming.url}/mcp` } } }, { store });
    await gw.users.put('alice', 'alice-password-1');
    const alice = (await issueToken(gw, 'alice', 'api')).access_token;
    const sessionsBefore = bridge.stats().sessions;
    store.failNextBind = true;
    const refused = await send(gw, alice, 'POST', initialize(3));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('mcp-session-id')).toBeNull();
    expect(await refused.json()).toMatchObject({ id: 3, error: { code: -32003 } });
    const [first] = opened;
    // The upstream's session was ended and its stream closed.
    expect(seen.filter((s) => s.method === 'DELETE' && s.session === first!.id)).toHaveLength(1);
    expect(bridge.stats().sessions).toBe(sessionsBefore);
    await first!.closed;
    // The store is back: the retry binds.
    const retry = await send(gw, alice, 'POST', initialize(4));
    expect(retry.status).toBe(200);
    const session = {
      'mcp-session-id': retry.headers.get('mcp-session-id')!,
      'mcp-protocol-version': '2025-06-18',
    };
    await retry.body?.cancel();
    const del = await send(gw, alice, 'DELETE', undefined, session);
    expect(del.status).toBe(200);
    await del.body?.cancel();
  });

  it.each(KINDS)(
    'maxSessions (%s store): an initialize beyond the overall bound gets 503 and its upstream session is ended; a DELETE makes room',
    async (kind) => {
      const { gw, token } = await start({ maxSessions: 2 }, ['alice', 'bob', 'carol'], storeConfig(kind));
      const a = await open(gw, token.alice!);
      await open(gw, token.bob!);
      const sessionsBefore = bridge.stats().sessions;
      const refused = await send(gw, token.carol!, 'POST', initialize(7));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.headers.get('mcp-session-id')).toBeNull();
      expect(await refused.json()).toMatchObject({ id: 7, error: { code: -32000 } });
      // The session the upstream opened for it was ended there.
      const last = seen.at(-1)!;
      expect(last.method).toBe('DELETE');
      expect(bridge.stats().sessions).toBe(sessionsBefore);
      const del = await send(gw, token.alice!, 'DELETE', undefined, a);
      expect(del.status).toBe(200);
      await del.body?.cancel();
      const c = await open(gw, token.carol!);
      expect(await echoIn(gw, token.carol!, c, 'room')).toBe('room');
    },
  );

  it('sessionTimeout: a binding unused for longer is forgotten and its session ended upstream; a use restarts its idle time', async () => {
    const t = owned();
    expect(await t.owners.bind('s1', 'local:alice')).toBe(true);
    expect(await t.owners.bind('s2', 'local:alice')).toBe(true);
    t.clock.now += 500_000;
    expect(await t.owners.owns('s1', 'local:alice')).toBe(true);
    expect(await t.owners.owns('s1', 'local:bob')).toBe(false);
    t.clock.now += 500_000;
    expect(await t.owners.owns('s1', 'local:alice')).toBe(true);
    expect(await t.owners.owns('s2', 'local:alice')).toBe(false);
    await t.owners.settled();
    expect(t.ended).toEqual([{ sessionId: 's2', sub: 'local:alice' }]);
    // Once: the binding is gone.
    expect(await t.owners.owns('s2', 'local:alice')).toBe(false);
    await t.owners.settled();
    expect(t.ended).toHaveLength(1);
  });
});

/** A fresh real store of `kind`, for a gateway given it directly. */
const realStore = (kind: StoreKind): Store =>
  kind === 'embedded'
    ? new EmbeddedStore({ path: path.join(mkdtempSync(path.join(tmpdir(), 'gw-sessions-')), 'store.mdb') })
    : new RedisStore({ url: redis.url, namespace: `sessions${++fresh}` });

/** The overall set of the `api` service's bindings. */
const ALL_SESSIONS = 'gateway:http-sessions:api';

/** `inner`, counting the reads of the whole overall session set (`members`). */
function countingFullReads(inner: Store): { store: Store; fullReads: () => number } {
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'members')
        return (key: string) => {
          if (key === ALL_SESSIONS) reads++;
          return target.members(key);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, fullReads: () => reads };
}

/** The upstream saw a `DELETE` of `session` (ended in the background: polled). */
const endedUpstream = (session: Record<string, string>) =>
  expect
    .poll(() => seen.some((s) => s.method === 'DELETE' && s.session === session['mcp-session-id']))
    .toBe(true);

/**
 * The `sessionTimeout` of the idle cases. No test waits it out: the gateway's bindings run on a
 * {@link ManualClock} the test moves past it (the store's own entry lifetime, twice as long, is
 * wall time and does not run out meanwhile).
 */
const IDLE_SECONDS = 600;

describe.each(['embedded', 'redis'] as const)('http session bounds on the %s store', (kind) => {
  it('sessionTimeout: an idle session is 404 at the gateway and ended upstream, when named or when a prune at maxSessions finds it', async () => {
    const clock = new ManualClock();
    const { gw, token } = await start(
      { maxSessions: 3, sessionTimeout: IDLE_SECONDS },
      ['alice', 'bob', 'carol'],
      storeConfig(kind),
      clock,
    );
    const a = await open(gw, token.alice!);
    const b = await open(gw, token.bob!);
    clock.advance(IDLE_SECONDS * 1000 + 1);
    // Named: forgotten, and ended upstream in the background.
    await expectForgotten(gw, token.alice!, a);
    await endedUpstream(a);
    // At the bound (b, c, d, and e opening), the prune takes b out and ends it upstream: e is admitted.
    await open(gw, token.carol!);
    await open(gw, token.alice!);
    const e = await open(gw, token.bob!);
    expect(await echoIn(gw, token.bob!, e, 'pruned')).toBe('pruned');
    await endedUpstream(b);
    await expectForgotten(gw, token.bob!, b);
  });

  it('an initialize counts the bound sessions without reading them all; at the bound the set is read once per prune interval', async () => {
    const counted = countingFullReads(realStore(kind));
    const { gw, token } = await start({ maxSessions: 3 }, ['alice', 'bob'], counted.store);
    for (let i = 0; i < 3; i++) await open(gw, i % 2 ? token.bob! : token.alice!);
    expect(counted.fullReads()).toBe(0);
    for (let i = 0; i < 4; i++) {
      const refused = await send(gw, token.bob!, 'POST', initialize(i));
      expect(refused.status).toBe(503);
      await refused.body?.cancel();
    }
    // The first refusal pruned (and found nothing to take out); the others waited for the next interval.
    expect(counted.fullReads()).toBe(1);
  });
});

describe('http session bounds: two instances on one Redis', () => {
  it('hold maxSessions together: a burst across both never overshoots, both refuse at the bound, and a DELETE on one makes room on the other', async () => {
    const store = storeConfig('redis');
    const { gw: one, token } = await start({ maxSessions: 3 }, ['alice', 'bob', 'carol'], store);
    const { gw: two } = await start({ maxSessions: 3 }, [], store);
    const users = [token.alice!, token.bob!, token.carol!];
    const base = bridge.stats().sessions;
    const burst = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const res = await send(i % 2 ? two : one, users[i % 3]!, 'POST', initialize(i));
        await res.text();
        const session = {
          'mcp-session-id': res.headers.get('mcp-session-id')!,
          'mcp-protocol-version': V2025,
        };
        return { status: res.status, user: users[i % 3]!, session };
      }),
    );
    const bound = burst.filter((r) => r.status === 200);
    expect(burst.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    expect(bound.length).toBeLessThanOrEqual(3);
    // Every refused session was ended upstream before its 503.
    expect(bridge.stats().sessions).toBe(base + bound.length);
    const opened: { user: string; session: Record<string, string> }[] = bound.map(({ user, session }) => ({
      user,
      session,
    }));
    for (let i = bound.length; i < 3; i++)
      opened.push({ user: users[i]!, session: await open(i % 2 ? two : one, users[i]!) });
    for (const gw of [one, two]) {
      const refused = await send(gw, token.alice!, 'POST', initialize(9));
      expect(refused.status).toBe(503);
      await refused.body?.cancel();
    }
    expect(bridge.stats().sessions).toBe(base + 3);
    // Any instance serves a bound session: its owner ends it on `two`, and `one` has room again.
    const last = opened.at(-1)!;
    const del = await send(two, last.user, 'DELETE', undefined, last.session);
    expect(del.status).toBe(200);
    await del.body?.cancel();
    const again = await open(one, token.carol!);
    expect(await echoIn(one, token.carol!, again, 'room')).toBe('room');
  });
});

describe('http session bindings in the store', () => {
  it('hold the session id sealed, not in the clear', async () => {
    const t = owned();
    await t.owners.bind('session-id-in-clear', 'local:alice');
    const entry = await t.store.get(`gateway:http-session:api:${digest('session-id-in-clear')}`);
    expect(entry).toMatchObject({ sub: 'local:alice', sid: expect.any(String) });
    expect(JSON.stringify(entry)).not.toContain('session-id-in-clear');
    // Another instance on the store opens it (the secret is shared through the store): it ends the session at eviction.
    const other = owned({ maxSessionsPerUser: 1 }, t.store);
    expect(await other.owners.bind('s2', 'local:alice')).toBe(true);
    expect(other.ended).toEqual([{ sessionId: 'session-id-in-clear', sub: 'local:alice' }]);
  });

  it("at the overall bound, a prune ends expired sessions upstream and empties their users' sets", async () => {
    const t = owned({ maxSessions: 2 });
    await t.owners.bind('a1', 'local:alice');
    await t.owners.bind('b1', 'local:bob');
    expect(await t.owners.bind('c1', 'local:carol')).toBe(false);
    t.clock.now += 600_001;
    expect(await t.owners.bind('c2', 'local:carol')).toBe(true);
    await t.owners.settled();
    expect(t.ended.map((e) => e.sessionId).sort()).toEqual(['a1', 'b1']);
    expect(await t.store.members('gateway:http-sessions:api')).toEqual([
      `${digest('c2')}.${tag('local:carol')}`,
    ]);
    expect(await t.store.members(`gateway:http-session-users:api:${tag('local:alice')}`)).toEqual([]);
    expect(await t.store.members(`gateway:http-session-users:api:${tag('local:bob')}`)).toEqual([]);
  });

  it('a session in use costs one store read per cache lifetime; a forget takes effect at once here, on another instance within that lifetime', async () => {
    const t = owned({}, new CountingStore());
    const store = t.store as CountingStore;
    const other = owned({}, store);
    await t.owners.bind('s1', 'local:alice');
    store.reads = 0;
    for (let i = 0; i < 10; i++) expect(await t.owners.owns('s1', 'local:alice')).toBe(true);
    expect(store.reads).toBe(0);
    expect(await other.owners.owns('s1', 'local:alice')).toBe(true);
    expect(store.reads).toBe(1);
    // Ended on the first instance: at once there, within 5 s on the other.
    await t.owners.forget('s1', 'local:alice');
    expect(await t.owners.owns('s1', 'local:alice')).toBe(false);
    expect(await other.owners.owns('s1', 'local:alice')).toBe(true);
    other.clock.now += 5_000;
    expect(await other.owners.owns('s1', 'local:alice')).toBe(false);
  });

  it('the owner cache keeps at most its size, dropping the least recently used', () => {
    const cache = new RecentOwners(3, 5_000);
    for (const id of ['s1', 's2', 's3']) cache.set(id, { sub: 'u', at: 0 }, 0);
    expect(cache.get('s1', 1)).toBeDefined();
    cache.set('s4', { sub: 'u', at: 0 }, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('s2', 1)).toBeUndefined();
    expect(['s1', 's3', 's4'].map((id) => cache.get(id, 1)?.sub)).toEqual(['u', 'u', 'u']);
    expect(cache.get('s1', 5_000)).toBeUndefined();
  });
});

/** A memory store whose next write of a session binding fails (a store outage while binding). */
class BindFailingStore extends MemoryStore {
  failNextBind = false;
  override set(key: string, value: unknown, ttlMs?: number) {
    if (this.failNextBind && key.startsWith('gateway:http-session:')) {
      this.failNextBind = false;
      return Promise.reject(storeUnavailable(new Error('connection reset')));
    }
    return super.set(key, value, ttlMs);
  }
}

/** A memory store counting reads of session bindings. */
class CountingStore extends MemoryStore {
  reads = 0;
  override get<T>(key: string) {
    if (key.startsWith('gateway:http-session:')) this.reads++;
    return super.get<T>(key);
  }
}

/** Bindings of the `api` service on `store` (idle time 600 s), on a clock the test moves, recording the sessions they end upstream. */
function owned(limits: Partial<HttpSessionLimits> = {}, store = new MemoryStore()) {
  const clock = { now: 1_000_000 };
  const ended: { sessionId: string; sub: string }[] = [];
  const owners = new HttpSessionOwners(
    store,
    'api',
    { maxSessions: 10, maxSessionsPerUser: 10, idleMs: 600_000, ...limits },
    {
      now: () => clock.now,
      end: async (sessionId, sub) => {
        ended.push({ sessionId, sub });
      },
    },
  );
  return { owners, store, clock, ended };
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url');
const tag = (sub: string) => digest(sub).slice(0, 22);
