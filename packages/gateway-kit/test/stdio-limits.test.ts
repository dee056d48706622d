import { ManualClock } from '@mcp-gateway/oauth-dynamicclient';
import { fixtureMcpServerCommand } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultServices } from '../src/config/defaults.js';
import { resolveConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import type { StdioServiceConfig } from '../src/config/schema.js';
import { createLogger } from '../src/ops/logger.js';
import type { ServiceBackend } from '../src/services/backend.js';
import { stdioBackend } from '../src/services/stdio.js';

const ISSUER = 'http://127.0.0.1:8080';
let gw: Gateway;

beforeAll(async () => {
  const demo = { ...defaultServices().demo!, maxSessionsPerUser: 2, maxSessions: 4 };
  const { config } = resolveConfig(
    { issuer: ISSUER, store: { type: 'memory' }, services: { demo } },
    { env: {} },
  );
  gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  await gw.users.put('alice', 'alice-password', 'Alice');
  await gw.users.put('bob', 'bob-password-1', 'Bob');
});
const backends: ServiceBackend[] = [];
afterAll(async () => {
  await gw.close(0);
  await Promise.all(backends.map((b) => b.close()));
});

const post = (token: string, body: unknown, extra: Record<string, string> = {}) =>
  gw.fetch(
    new Request(`${ISSUER}/demo/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
        ...extra,
      },
      body: JSON.stringify(body),
    }),
  );

const initialize = (
  params: unknown = {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 't', version: '1' },
  },
) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params,
});

/** Opens a demo session as the token's user; returns its id. */
async function open(token: string): Promise<string> {
  const res = await post(token, initialize());
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

async function metrics(): Promise<string> {
  return (await gw.fetch(new Request(`${ISSUER}/metrics`))).text();
}

describe('gateway stdio service: deadlines, params and the per-user cap', () => {
  it('stdio params: a malformed initialize to /demo/mcp is answered -32602 at once and spawns no child', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const spawns = /mcp_gateway_stdio_child_spawns_total\{service="demo"\} (\d+)/;
    const before = Number(spawns.exec(await metrics())?.[1] ?? 0);
    for (const params of [[], 'x']) {
      const res = await post(access_token, initialize(params));
      expect(res.status).toBe(400);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32602 } });
    }
    expect(Number(spawns.exec(await metrics())?.[1])).toBe(before);
    // Mid-session, array params get the same answer instead of silence from the child.
    const sid = await open(access_token);
    const res = await post(
      access_token,
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: [] },
      {
        'mcp-session-id': sid,
      },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 2, error: { code: -32602 } });
    await (
      await gw.fetch(
        new Request(`${ISSUER}/demo/mcp`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${access_token}`, 'mcp-session-id': sid },
        }),
      )
    ).text();
  });

  it('stdio user cap: a user whose sessions are all busy gets 429 with Retry-After while another user still gets in', async () => {
    const alice = (await issueToken(gw, 'alice', 'demo')).access_token;
    const bob = (await issueToken(gw, 'bob', 'demo')).access_token;
    for (let i = 0; i < 2; i++) {
      const sid = await open(alice);
      // A long call keeps the session busy; the client stops reading its stream.
      const call = await post(
        alice,
        {
          jsonrpc: '2.0',
          id: 'sleep',
          method: 'tools/call',
          params: { name: 'sleep', arguments: { seconds: 600 } },
        },
        { 'mcp-session-id': sid },
      );
      expect(call.status).toBe(200);
      await call.body?.cancel();
    }
    const refused = await post(alice, initialize());
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ error: { code: -32000 } });
    await open(bob);
    const text = await metrics();
    expect(text).toContain('mcp_gateway_stdio_session_rejections_total{service="demo",reason="user_cap"} 1');
    expect(text).toContain(
      'mcp_gateway_stdio_session_rejections_total{service="demo",reason="global_cap"} 0',
    );
    expect(text).toContain('mcp_gateway_stdio_sessions_per_user_max{service="demo"} 2');
    expect(text).toContain('mcp_gateway_stdio_sessions_max{service="demo"} 4');
    expect(text).toContain('mcp_gateway_stdio_sessions{service="demo"} 3');
    expect(text).toMatch(/mcp_gateway_stdio_session_evictions_total\{service="demo"\} 0/);
    expect(text).toMatch(/mcp_gateway_stdio_request_timeouts_total\{service="demo"\} 0/);
    expect(text).not.toMatch(/local:alice|local:bob/);
  });
});

describe('stdio service fields reach the bridge', () => {
  const demo = resolveConfig({}, { env: {} }).config.services.demo as StdioServiceConfig;
  const rpc = (body: unknown, headers: Record<string, string> = {}) =>
    new Request('http://gateway.internal/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const backend = (fields: Partial<StdioServiceConfig>, clock?: ManualClock) => {
    const b = stdioBackend('demo', { ...demo, ...fields }, createLogger('silent'), '/mcp', { clock });
    backends.push(b);
    return b;
  };

  it('stdio config: the per-user cap counts the immutable sub, never the display name', async () => {
    const b = backend({ maxSessionsPerUser: 1 });
    const openAs = async (identity: { sub: string; name: string }) => {
      const res = await b.handle(rpc(initialize()), { ...identity, scopes: [] });
      expect(res.status).toBe(200);
      await res.text();
    };
    await openAs({ sub: 'local:alice', name: 'Alice' });
    // Same display name, another user: not alice's session to evict.
    await openAs({ sub: 'local:mallory', name: 'Alice' });
    expect(b.stdioStats!()).toMatchObject({ sessions: 2, evictions: 0, maxSessionsPerUser: 1 });
    // Same user under a new name: her idle session makes room.
    await openAs({ sub: 'local:alice', name: 'Alice Renamed' });
    expect(b.stdioStats!()).toMatchObject({ sessions: 2, evictions: 1 });
  });

  it('stdio config: requestTimeout is the deadline of a call the child does not answer in time (-32001)', async () => {
    // The bridge on a clock the test moves (its sweep runs as it moves).
    const clock = new ManualClock();
    const b = backend({ requestTimeout: 1 }, clock);
    const alice = { sub: 'local:alice', scopes: [] };
    const opened = await b.handle(rpc(initialize()), alice);
    const sid = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const sent = b.stdioStats!().requests;
    const answered = b.handle(
      rpc(
        {
          jsonrpc: '2.0',
          id: 'nap',
          method: 'tools/call',
          params: { name: 'sleep', arguments: { seconds: 60 } },
        },
        { 'mcp-session-id': sid },
      ),
      alice,
    );
    // Once the call is on its way to the child, 1 s on: the sweep finds it past its deadline.
    await vi.waitFor(() => expect(b.stdioStats!().requests).toBe(sent + 1));
    expect(b.stdioStats!().timeouts).toBe(0);
    clock.advance(1000);
    expect(b.stdioStats!().timeouts).toBe(1);
    expect(await (await answered).json()).toEqual({
      jsonrpc: '2.0',
      id: 'nap',
      error: { code: -32001, message: 'Request timed out after 1000 ms' },
    });
    expect(b.stdioStats!()).toMatchObject({ timeouts: 1, sessions: 1 });
  });
  it("stdio config: maxInFlightPerSession bounds one session's requests waiting for the child (429, -32000)", async () => {
    const b = backend({ maxInFlightPerSession: 2 });
    const alice = { sub: 'local:alice', scopes: [] };
    const opened = await b.handle(rpc(initialize()), alice);
    const sid = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const stream = { 'mcp-session-id': sid, accept: 'application/json, text/event-stream' };
    const nap = (id: string) =>
      rpc(
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'sleep', arguments: { seconds: 0.3 } } },
        stream,
      );
    // Event streams: each answer's head comes while its call is still in flight.
    const waiting = [await b.handle(nap('a'), alice), await b.handle(nap('b'), alice)];
    const refused = await b.handle(nap('c'), alice);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: 'c', error: { code: -32000 } });
    for (const res of waiting) expect(await res.text()).toContain('"result"');
    // Room again once they are answered.
    const again = await b.handle(nap('d'), alice);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('"result"');
  });

  it("stdio config: maxStreamQueueBytes cuts a session's event stream whose client stops reading (through the gateway)", async () => {
    const { config } = resolveConfig(
      {
        issuer: ISSUER,
        store: { type: 'memory' },
        services: {
          fixture: { type: 'stdio', ...fixtureMcpServerCommand(), maxStreamQueueBytes: 64 * 1024 },
        },
      },
      { env: {} },
    );
    const g = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
    try {
      await g.users.put('alice', 'alice-password');
      const { access_token } = await issueToken(g, 'alice', 'fixture');
      const send = (body: unknown, headers: Record<string, string> = {}) =>
        g.fetch(
          new Request(`${ISSUER}/fixture/mcp`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              authorization: `Bearer ${access_token}`,
              ...headers,
            },
            body: JSON.stringify(body),
          }),
        );
      // 2025-03-26: the revision with JSON-RPC batches.
      const opened = await send(
        initialize({
          protocolVersion: '2025-03-26',
          capabilities: {},
          clientInfo: { name: 't', version: '1' },
        }),
      );
      expect(opened.status).toBe(200);
      await opened.text();
      const session = { 'mcp-session-id': opened.headers.get('mcp-session-id')! };
      // 16 answers of 256 KiB on one event stream: 4 MiB, half the bridge's 8 MiB default.
      const calls = Array.from({ length: 16 }, (_, i) => ({
        jsonrpc: '2.0',
        id: `big-${i}`,
        method: 'tools/call',
        params: { name: 'big', arguments: { bytes: 256 * 1024 } },
      }));
      const stream = await send(calls, session);
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toContain('text/event-stream');
      // Connected to its reader, which reads nothing yet.
      const reader = stream.body!.getReader();
      // The child answers in order: once a later call is answered, every big answer reached the stream.
      const after = await send(
        {
          jsonrpc: '2.0',
          id: 'after',
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'on' } },
        },
        { ...session, accept: 'application/json' },
      );
      expect(await after.json()).toMatchObject({ id: 'after', result: { content: [{ text: 'on' }] } });
      // Past 64 KiB waiting the stream was cut and its queue freed: nothing more to read.
      await expect(reader.read()).rejects.toThrow(/more than 65536 bytes queued/);
    } finally {
      await g.close(0);
    }
  });
});
