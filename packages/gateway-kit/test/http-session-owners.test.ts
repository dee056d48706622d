// `http` services: an upstream 2025 session (`Mcp-Session-Id`) is bound to the user who opened it.
// The upstream is a real Streamable HTTP server that binds sessions to nobody (the bridge in front
// of the fixture stdio server, without an identity), so only the gateway keeps users apart.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import { fixtureMcpServerCommand, listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import type { HttpServiceConfig } from '../src/config/schema.js';
import { HttpSessionOwners } from '../src/services/http-session-owners.js';
import { ISSUER, rpcResult, testGateways } from './helpers.js';

const { cleanups, gateway } = testGateways();
let bridge: StdioBridge;
let upstream: Listening;
/** Every request the upstream received: its method and `Mcp-Session-Id`. */
const seen: { method: string; session: string | null }[] = [];

beforeAll(async () => {
  bridge = createStdioBridge({ ...fixtureMcpServerCommand(), logLevel: 'silent' });
  upstream = await listen((req) => {
    seen.push({ method: req.method, session: req.headers.get('mcp-session-id') });
    return bridge.fetch(req);
  });
  // Closed after the gateways (the cleanups run in reverse order).
  cleanups.push(async () => {
    await upstream.close();
    await bridge.close();
  });
});

const reached = (session: string) => seen.filter((s) => s.session === session).length;

/** A gateway with the `api` http service in front of the upstream, and tokens of its users. */
async function start(
  limits: Partial<HttpServiceConfig> = {},
  users = ['alice', 'bob'],
): Promise<{ gw: Gateway; token: Record<string, string> }> {
  const gw = await gateway({ services: { api: { type: 'http', url: `${upstream.url}/mcp`, ...limits } } });
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

  it("maxSessionsPerUser: opening one more forgets the user's least recently used session; others' are untouched", async () => {
    const { gw, token } = await start({ maxSessionsPerUser: 2 });
    const b = await open(gw, token.bob!);
    const a1 = await open(gw, token.alice!);
    const a2 = await open(gw, token.alice!);
    const a3 = await open(gw, token.alice!);
    await expectForgotten(gw, token.alice!, a1);
    expect(await echoIn(gw, token.alice!, a2, 'two')).toBe('two');
    expect(await echoIn(gw, token.alice!, a3, 'three')).toBe('three');
    expect(await echoIn(gw, token.bob!, b, 'bob')).toBe('bob');
  });

  it('maxSessions: an initialize beyond the overall bound gets 503 and its upstream session is ended; a DELETE makes room', async () => {
    const { gw, token } = await start({ maxSessions: 2 }, ['alice', 'bob', 'carol']);
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
  });

  it('sessionTimeout: a binding unused for longer is forgotten; a use restarts its idle time', async () => {
    let now = 1_000_000;
    const owners = new HttpSessionOwners(
      new MemoryStore(),
      'api',
      { maxSessions: 10, maxSessionsPerUser: 10, idleMs: 600_000 },
      () => now,
    );
    expect(await owners.bind('s1', 'local:alice')).toBe(true);
    expect(await owners.bind('s2', 'local:alice')).toBe(true);
    now += 500_000;
    expect(await owners.owns('s1', 'local:alice')).toBe(true);
    expect(await owners.owns('s1', 'local:bob')).toBe(false);
    now += 500_000;
    expect(await owners.owns('s1', 'local:alice')).toBe(true);
    expect(await owners.owns('s2', 'local:alice')).toBe(false);
  });
});
