// The 2025 sessions a federated endpoint holds with a 2025-only member (a real SDK 1.x server on
// loopback): one per owner however many requests need it at once, bounded by the endpoint's
// `maxSessions`, and a session that ends (or never opens) frees its place. Real gateway on
// 127.0.0.1; clients are the MCP SDK 1.x (2025-11-25 sessions) and 2.x (pinned to 2026-07-28).
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';

const ENDPOINTS = ['/burst', '/capped', '/flaky', '/held'] as const;
type Endpoint = (typeof ENDPOINTS)[number];
type User = 'alice' | 'bob';

let base: string;
let legacy: LegacyServer;
/** In front of the legacy server for the `flaky` service: refuses `initialize` while `failing`. */
let flaky: Listening;
let failing = false;
/** While set, `initialize` waits for it (and `held` is told). */
let hold: Promise<void> | undefined;
let held: () => void = () => {};
let refusedInits = 0;
const tokens: Record<User, Partial<Record<Endpoint, string>>> = { alice: {}, bob: {} };

beforeAll(async () => {
  legacy = await legacyMcpServer((mcp) =>
    mcp.registerTool('legacy-echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: 'text', text: `legacy ${text}` }],
    })),
  );
  flaky = await listen(async (request) => {
    const body = request.method === 'POST' ? await request.text() : undefined;
    if (failing && body?.includes('"initialize"')) {
      refusedInits++;
      return new Response('upstream down', { status: 502 });
    }
    if (hold && body?.includes('"initialize"')) {
      held();
      await hold;
    }
    const url = new URL(request.url);
    const res = await fetch(`${legacy.url}${url.pathname}`, {
      method: request.method,
      headers: request.headers,
      body,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  const started = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      old: { type: 'http', url: `${legacy.url}/mcp` },
      flaky: { type: 'http', url: `${flaky.url}/mcp` },
    },
    federated: [
      { path: '/burst', services: ['old'] },
      // `always`: a call names its member, which is asked without listing first.
      { path: '/capped', services: ['old'], maxSessions: 3, prefix: 'always' },
      { path: '/flaky', services: ['flaky'], maxSessions: 1 },
      { path: '/held', services: ['flaky'], prefix: 'always' },
    ],
  });
  base = started.url;
  for (const user of ['alice', 'bob'] as const) {
    await started.gw.users.put(user, `${user}-password-1`);
    for (const e of ENDPOINTS) tokens[user][e] = (await issueToken(started.gw, user, e)).access_token;
  }
});

afterAll(async () => {
  await flaky?.close();
  await legacy?.close();
});

const headers = (endpoint: Endpoint, user: User) => ({ authorization: `Bearer ${tokens[user][endpoint]}` });

/** An SDK 1.x client in a 2025-11-25 session with a federated endpoint (the owner of its member sessions). */
async function sdk1(endpoint: Endpoint, user: User) {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  const transport = new TransportV1(new URL(`${base}${endpoint}`), {
    requestInit: { headers: headers(endpoint, user) },
  });
  await client.connect(transport);
  return { client, transport };
}

/** An SDK 2.x client pinned to 2026-07-28 (its user owns its member sessions). */
async function sdk2(endpoint: Endpoint, user: User) {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new TransportV2(new URL(`${base}${endpoint}`), { requestInit: { headers: headers(endpoint, user) } }),
  );
  return client;
}

const capped = { name: 'old__legacy-echo', arguments: { text: 'hi' } };
/** A bare 2026-07-28 request (no `server/discover` first): its result. */
async function post2026(
  endpoint: Endpoint,
  user: User,
  method: string,
  params: Record<string, unknown> = {},
) {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const res = await fetch(`${base}${endpoint}`, {
    method: 'POST',
    headers: {
      ...headers(endpoint, user),
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }),
  });
  const body = (await res.json()) as { result?: Record<string, unknown>; error?: unknown };
  expect(body.error).toBeUndefined();
  return body.result!;
}

const echo = { name: 'legacy-echo', arguments: { text: 'hi' } };
const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;
const toolNames = (r: { tools: Array<{ name: string }> }) => r.tools.map((t) => t.name);

describe('federated endpoint: sessions with a 2025-only member', () => {
  it('parallel first requests of one 2026-07-28 user open exactly one member session', async () => {
    const before = legacy.opened.length;
    const lists = await Promise.all([1, 2, 3].map(() => post2026('/burst', 'bob', 'tools/list')));
    for (const l of lists)
      expect(toolNames(l as { tools: Array<{ name: string }> })).toContain('legacy-echo');
    expect(legacy.opened.length - before).toBe(1);
    // Known 2025-only now, the member is asked in that session at once: still one.
    const again = await Promise.all([1, 2, 3].map(() => post2026('/burst', 'bob', 'tools/call', echo)));
    for (const r of again) expect(textOf(r)).toBe('legacy hi');
    expect(legacy.opened.length - before).toBe(1);
  });

  it('maxSessions refuses a member session with the documented error; once one ends, another opens (no lockout)', async () => {
    const start = legacy.opened.length;
    const s1 = await sdk1('/capped', 'alice');
    // Connecting takes two places: alice's discovery (`user:alice`) and her session's list-change watch.
    await vi.waitFor(() => expect(legacy.opened.length - start).toBe(2));
    const before = legacy.opened.length;
    // Three calls at once in one federated session share one member session: the third place.
    const calls = await Promise.all([1, 2, 3].map(() => s1.client.callTool(capped)));
    for (const c of calls) expect(textOf(c)).toBe('legacy hi');
    const mine = legacy.opened.slice(before);
    expect(mine).toHaveLength(1);
    // The endpoint holds maxSessions (3) member sessions: bob's federated session gets none.
    const s2 = await sdk1('/capped', 'bob');
    await expect(s2.client.callTool(capped)).rejects.toThrow(/too many sessions with service "old"/);
    // s1 ends (DELETE): its member sessions end with it, and their places are free again.
    await s1.transport.terminateSession();
    await s1.client.close();
    await vi.waitFor(() => expect(legacy.ended).toEqual(expect.arrayContaining(mine)));
    expect(textOf(await s2.client.callTool(capped))).toBe('legacy hi');
    await s2.client.close();
  });

  it('a member session that fails to open takes no place: the next request opens one', async () => {
    failing = true;
    const alice = await sdk2('/flaky', 'alice');
    // Each request tries to open a session (the cap is 1) and fails: the member is left out.
    for (let i = 0; i < 3; i++) expect(toolNames(await alice.listTools())).not.toContain('legacy-echo');
    expect(refusedInits).toBeGreaterThanOrEqual(3);
    failing = false;
    expect(toolNames(await alice.listTools())).toContain('legacy-echo');
    expect(textOf(await alice.callTool(echo))).toBe('legacy hi');
    await alice.close();
  });

  it('a member session still opening when its federated session ends is ended at the member', async () => {
    const start = legacy.opened.length;
    const s = await sdk1('/held', 'alice');
    await vi.waitFor(() => expect(legacy.opened.length - start).toBe(2));
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const initialize = new Promise<void>((r) => (held = r));
    const call = s.client.callTool({ name: 'flaky__legacy-echo', arguments: { text: 'x' } }).catch(() => {});
    await initialize;
    await s.transport.terminateSession();
    hold = undefined;
    release();
    await vi.waitFor(() => expect(legacy.opened.length - start).toBe(3));
    const late = legacy.opened.at(-1)!;
    await vi.waitFor(() => expect(legacy.ended).toContain(late));
    await s.client.close();
    await call;
  });
});
