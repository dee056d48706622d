// Issue 20, federated endpoints: one MCP URL over the built-in fetch service, a stdio
// service (the testkit fixture, real child processes) and an `http` service (a real
// fetch-server on loopback), served by a real gateway on 127.0.0.1 to the MCP SDK 1.x
// client (2025-11-25 sessions) and the SDK 2.x client pinned to 2026-07-28.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { createFetchServer } from '@mcp-gateway/fetch-server';
import { fixtureMcpServerCommand, listen, parseWwwAuthenticate, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createNodeServer, type NodeServer } from '../src/http/node.js';
import { createLogger } from '../src/ops/logger.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';

const V2026 = '2026-07-28';
const MEMBERS = ['fetch', 'fixture', 'upstream'];
const ENDPOINTS = ['/mcp', '/all', '/never', '/down', '/small', '/legacy'] as const;
type Endpoint = (typeof ENDPOINTS)[number];
type User = 'alice' | 'bob';

let gw: Gateway;
let server: NodeServer;
let base: string;
let page: Listening;
let upstream: Listening;
/** Requests the `http` member's upstream received. */
let upstreamRequests = 0;
let legacy: LegacyServer;
const tokens: Record<User, Partial<Record<Endpoint, string>>> = { alice: {}, bob: {} };

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen((request) => {
    upstreamRequests++;
    return fetchServer(request);
  });
  legacy = await legacyMcpServer((mcp) =>
    mcp.registerTool('legacy-echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: 'text', text: `legacy ${text}` }],
    })),
  );
  // A member that is down: an address that listened once and is closed now.
  const gone = await listen(() => new Response('gone'));
  await gone.close();
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      services: {
        fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
        // bob may not use the stdio service.
        fixture: { type: 'stdio', ...fixtureMcpServerCommand(), users: ['local:alice'] },
        upstream: { type: 'http', url: `${upstream.url}/mcp` },
        dead: { type: 'http', url: `${gone.url}/mcp`, timeout: 5 },
        old: { type: 'http', url: `${legacy.url}/mcp` },
      },
      federated: [
        { path: '/mcp', services: MEMBERS },
        { path: '/all', services: MEMBERS, prefix: 'always' },
        { path: '/never', services: MEMBERS, prefix: 'never' },
        { path: '/down', services: ['fetch', 'dead', 'fixture'], prefix: 'always', timeout: 5 },
        { path: '/small', services: ['fetch'], maxSessions: 3, maxSessionsPerUser: 2 },
        { path: '/legacy', services: ['fetch', 'old'] },
      ],
    },
    { env: {} },
  );
  gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  for (const user of ['alice', 'bob'] as const) {
    await gw.users.put(user, `${user}-password-1`);
    for (const e of ENDPOINTS) tokens[user][e] = (await issueToken(gw, user, e)).access_token;
  }
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
  await upstream?.close();
  await page?.close();
  await legacy?.close();
});

const auth = (endpoint: Endpoint, user: User = 'alice') => ({
  authorization: `Bearer ${tokens[user][endpoint]}`,
});

/** An SDK 1.x client in a 2025-11-25 session with a federated endpoint. */
async function sdk1(endpoint: Endpoint, user: User = 'alice') {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  await client.connect(
    new TransportV1(new URL(`${base}${endpoint}`), { requestInit: { headers: auth(endpoint, user) } }),
  );
  return client;
}

/** An SDK 2.x client pinned to 2026-07-28 (stateless requests). */
async function sdk2(endpoint: Endpoint, user: User = 'alice') {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: V2026 } } },
  );
  await client.connect(
    new TransportV2(new URL(`${base}${endpoint}`), { requestInit: { headers: auth(endpoint, user) } }),
  );
  return client;
}

const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;
const names = (r: { tools: Array<{ name: string }> }) => r.tools.map((t) => t.name).sort();

const FIXTURE_TOOLS = ['add', 'echo', 'elicit', 'slow'];

describe.each([
  ['2025-11-25 session (SDK 1.x)', sdk1],
  ['2026-07-28 stateless (SDK 2.x)', sdk2],
] as const)('federated endpoint, %s', (_era, connect) => {
  it('conditional: only the colliding name is prefixed, each with its own service', async () => {
    const client = await connect('/mcp');
    const listed = names(await client.listTools());
    expect(listed).toEqual(expect.arrayContaining(['fetch__fetch', 'upstream__fetch', ...FIXTURE_TOOLS]));
    expect(listed).not.toContain('fetch');
    expect(listed.filter((n) => n.includes('__'))).toEqual(['fetch__fetch', 'upstream__fetch']);
    await client.close();
  });

  it('always: every name carries its service; never: the first service keeps a shared name', async () => {
    const all = await connect('/all');
    const allNames = names(await all.listTools());
    expect(allNames).toEqual(expect.arrayContaining(['fetch__fetch', 'upstream__fetch', 'fixture__echo']));
    expect(allNames.every((n) => /^(fetch|fixture|upstream)__/.test(n))).toBe(true);
    await all.close();
    const never = await connect('/never');
    const neverNames = names(await never.listTools());
    expect(neverNames.filter((n) => n === 'fetch')).toHaveLength(1);
    expect(neverNames).toContain('echo');
    expect(neverNames.some((n) => n.includes('__'))).toBe(false);
    const before = upstreamRequests;
    const r = await never.callTool({ name: 'fetch', arguments: { url: `${page.url}/` } });
    expect(textOf(r)).toContain('hello from the page');
    // The fetch service won: the upstream was not asked.
    expect(upstreamRequests).toBe(before);
    await never.close();
  });

  it('calls are routed to the owning service under its own name', async () => {
    const client = await connect('/mcp');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'federated hi' } }))).toBe(
      'federated hi',
    );
    const before = upstreamRequests;
    const viaUpstream = await client.callTool({
      name: 'upstream__fetch',
      arguments: { url: `${page.url}/` },
    });
    expect(textOf(viaUpstream)).toContain('hello from the page');
    expect(upstreamRequests).toBeGreaterThan(before);
    const mid = upstreamRequests;
    const viaFetch = await client.callTool({ name: 'fetch__fetch', arguments: { url: `${page.url}/` } });
    expect(textOf(viaFetch)).toContain('hello from the page');
    expect(upstreamRequests).toBe(mid);
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/Unknown tool: nope/);
    const all = await connect('/all');
    expect(textOf(await all.callTool({ name: 'fixture__add', arguments: { a: 2, b: 3 } }))).toBe('5');
    await all.close();
    await client.close();
  });

  it('a user not allowed one service sees none of its tools and cannot call them', async () => {
    const client = await connect('/mcp', 'bob');
    const listed = names(await client.listTools());
    expect(listed).toEqual(['fetch__fetch', 'upstream__fetch']);
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(
      /Unknown tool: echo/,
    );
    await client.close();
    const all = await connect('/all', 'bob');
    await expect(all.callTool({ name: 'fixture__echo', arguments: { text: 'x' } })).rejects.toThrow(
      /Unknown tool/,
    );
    await all.close();
  });

  it('a member that is down leaves the others listed and working; a call to it is a JSON-RPC error', async () => {
    const client = await connect('/down');
    const listed = names(await client.listTools());
    expect(listed).toEqual(expect.arrayContaining(['fetch__fetch', 'fixture__echo']));
    expect(listed.some((n) => n.startsWith('dead__'))).toBe(false);
    expect(textOf(await client.callTool({ name: 'fixture__echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
    await expect(client.callTool({ name: 'dead__anything', arguments: {} })).rejects.toThrow(/dead/);
    await client.close();
  });

  it('a 2025-only member is asked through a session of its own, opened on first need', async () => {
    const client = await connect('/legacy');
    const listed = names(await client.listTools());
    expect(listed).toEqual(expect.arrayContaining(['fetch', 'legacy-echo']));
    expect(textOf(await client.callTool({ name: 'legacy-echo', arguments: { text: 'hi' } }))).toBe(
      'legacy hi',
    );
    expect(legacy.opened.length).toBeGreaterThan(0);
    await client.close();
  });

  it('prompts and resources are merged and routed', async () => {
    const client = await connect('/mcp');
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
    expect(prompts).toEqual(expect.arrayContaining(['fetch__fetch', 'upstream__fetch', 'greet']));
    const greet = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(JSON.stringify(greet.messages)).toContain('Say hello to Ada');
    const resources = (await client.listResources()).resources.map((r) => r.uri);
    expect(resources).toContain('fixture://greeting');
    const read = await client.readResource({ uri: 'fixture://greeting' });
    expect(read.contents[0]!.uri).toBe('fixture://greeting');
    await expect(client.readResource({ uri: 'nowhere://x' })).rejects.toThrow(/Resource not found/);
    await client.close();
  });
});

describe('federated endpoint: protection and sessions', () => {
  it("a federated 2025 session's member sessions end with it (DELETE)", async () => {
    const client = new ClientV1({ name: 'sdk1', version: '1' });
    const transport = new TransportV1(new URL(`${base}/legacy`), {
      requestInit: { headers: auth('/legacy') },
    });
    await client.connect(transport);
    const before = legacy.opened.length;
    expect(textOf(await client.callTool({ name: 'legacy-echo', arguments: { text: 'x' } }))).toBe('legacy x');
    // The call's member session, and the one whose GET stream the client's GET stream listens on.
    expect(legacy.opened.length).toBeGreaterThan(before);
    await transport.terminateSession();
    await vi.waitFor(() => expect(legacy.ended).toEqual(expect.arrayContaining(legacy.opened.slice(before))));
    await client.close();
  });

  it("rfc9728: without a token, 401 names the endpoint's own document, whose scopes are the members' union", async () => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const [bearer] = parseWwwAuthenticate(res.headers.get('www-authenticate'));
    expect(bearer!.params.resource_metadata).toBe(
      'http://127.0.0.1/.well-known/oauth-protected-resource/mcp',
    );
    expect(bearer!.params.scope).toBe('mcp:fetch mcp:fixture mcp:upstream');
    const doc = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.resource).toBe('http://127.0.0.1/mcp');
    expect(doc.scopes_supported).toEqual(['mcp:fetch', 'mcp:fixture', 'mcp:upstream']);
  });

  it('a token for one member service is refused by the federated endpoint (audience)', async () => {
    const serviceToken = (await issueToken(gw, 'alice', 'fetch')).access_token;
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
  });

  it("a session belongs to its user: another user's token gets 404 for it", async () => {
    const init = await rawInitialize('/mcp', 'alice');
    const sid = init.headers.get('mcp-session-id')!;
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp', 'bob'), 'content-type': 'application/json', 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('session bounds: the oldest idle session of a user makes room, a full endpoint answers 503', async () => {
    const first = (await rawInitialize('/small', 'alice')).headers.get('mcp-session-id')!;
    await rawInitialize('/small', 'alice');
    // A third session of alice (cap 2 per user) ends her oldest one.
    await rawInitialize('/small', 'alice');
    const old = await fetch(`${base}/small`, {
      method: 'POST',
      headers: { ...auth('/small'), 'content-type': 'application/json', 'mcp-session-id': first },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(old.status).toBe(404);
    await rawInitialize('/small', 'bob');
    // Three sessions open: the endpoint's cap.
    const full = await fetch(`${base}/small`, {
      method: 'POST',
      headers: { ...auth('/small', 'bob'), 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25' },
      }),
    });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(await full.json()).toMatchObject({ id: 9, error: { code: -32000, message: /too many sessions/ } });
    // What the SDK client reports.
    await expect(sdk1('/small', 'bob')).rejects.toThrow(/Service Unavailable: too many sessions/);
  });
});

async function rawInitialize(endpoint: Endpoint, user: User): Promise<Response> {
  const res = await fetch(`${base}${endpoint}`, {
    method: 'POST',
    headers: {
      ...auth(endpoint, user),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  expect(res.status).toBe(200);
  await res.body?.cancel();
  return res;
}
