// A federated endpoint against the MCP 2026-07-28 spec (protocol audit): a real gateway on
// 127.0.0.1 with real members on loopback — an SDK 2.x server (`createMcpHandler`, strict
// 2026-07-28) whose tool declares `x-mcp-header` arguments and refuses a call without the
// mirrored `Mcp-Param-*` headers (400, -32020), a 2025-only SDK 1.x server, and two raw 2026
// members whose `subscriptions/listen` streams the test drives (one acknowledges at once, one when
// told). Clients: the SDK 1.x client (2025-11-25 sessions), the SDK 2.x client pinned to 2026-07-28
// and raw 2026-07-28 requests.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { listen, rawInitialize, rawSession, request2026, type Listening } from '@mcp-gateway/testkit';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';
import { sseMessages } from './helpers/sse-messages.js';

const V2026 = '2026-07-28';
/** Every revision the gateway serves, newest first. */
const SERVED = [V2026, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];
const ENDPOINTS = ['/mcp', '/all', '/ack'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

let gw: Gateway;
let base: string;
const tokens: Partial<Record<Endpoint, string>> = {};
/** Alice's token for `/ack` that admits only the `fast` member. */
let fastOnly: string;
let params: Listening;
/** `Mcp-Param-*` headers of the tool calls the SDK 2.x member answered. */
const paramCalls: Array<Record<string, string>> = [];
let old: LegacyServer;
let fast: ListenMember;
let slow: ListenMember;

/** A resolvable promise. */
function signal<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The SDK 2.x member: `where` mirrors `region`, `opts.zone` and `note` into `Mcp-Param-*` headers. */
function paramsServer(): McpServer {
  const server = new McpServer({ name: 'params', version: '1' });
  const header = (name: string) => z.string().meta({ 'x-mcp-header': name });
  server.registerTool(
    'where',
    {
      inputSchema: z.object({
        region: header('Region'),
        opts: z.object({ zone: header('Zone') }).optional(),
        note: header('Note').optional(),
      }),
    },
    ({ region, opts, note }) => ({
      content: [{ type: 'text', text: [region, opts?.zone, note].filter((v) => v).join('|') }],
    }),
  );
  return server;
}

/** A raw 2026-07-28 member whose `subscriptions/listen` streams the test drives. */
interface ListenMember {
  url: string;
  /** Resolves when the member got a listen request (its index). */
  listened(n: number): Promise<void>;
  /** Acknowledges every listen not acknowledged yet. */
  acknowledge(): void;
  /** Tells every open listen that its tools changed. */
  toolsChanged(): void;
  close(): Promise<void>;
}

async function listenMember(ackAtOnce: boolean): Promise<ListenMember> {
  const encoder = new TextEncoder();
  const streams: Array<{ c: ReadableStreamDefaultController<Uint8Array>; acked: boolean }> = [];
  const arrivals: Array<{ promise: Promise<void>; resolve: () => void }> = [];
  const arrival = (n: number) => (arrivals[n] ??= signal<void>());
  const send = (c: ReadableStreamDefaultController<Uint8Array>, msg: object) =>
    c.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(msg)}\n\n`));
  const ack = (s: (typeof streams)[number]) => {
    if (s.acked) return;
    s.acked = true;
    send(s.c, { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: {} });
  };
  const server = await listen(async (request) => {
    const msg = (await request.json()) as { id: number; method: string };
    if (msg.method !== 'subscriptions/listen') {
      const error = { code: -32601, message: 'Method not found' };
      return Response.json({ jsonrpc: '2.0', id: msg.id, error }, { status: 404 });
    }
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        const s = { c, acked: false };
        streams.push(s);
        if (ackAtOnce) ack(s);
        arrival(streams.length - 1).resolve();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  });
  return {
    url: server.url,
    listened: (n) => arrival(n).promise,
    acknowledge: () => streams.forEach(ack),
    toolsChanged: () => {
      for (const s of streams) send(s.c, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    },
    close: () => server.close(),
  };
}

beforeAll(async () => {
  const handler = createMcpHandler(paramsServer, { legacy: 'reject' });
  params = await listen((request) => {
    if (request.headers.get('mcp-method') === 'tools/call') {
      const sent: Record<string, string> = {};
      request.headers.forEach((v, k) => {
        if (k.startsWith('mcp-param-')) sent[k] = v;
      });
      paramCalls.push(sent);
    }
    return handler.fetch(request);
  });
  old = await legacyMcpServer((mcp) => {
    mcp.registerResource('doc', 'old://doc', {}, (uri) => ({ contents: [{ uri: uri.href, text: 'old' }] }));
  });
  fast = await listenMember(true);
  slow = await listenMember(false);
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      params: { type: 'http', url: `${params.url}/mcp` },
      old: { type: 'http', url: `${old.url}/mcp` },
      fast: { type: 'http', url: `${fast.url}/mcp` },
      slow: { type: 'http', url: `${slow.url}/mcp` },
    },
    federated: [
      { path: '/mcp', services: ['params', 'old'] },
      { path: '/all', services: ['params'], prefix: 'always' },
      { path: '/ack', services: ['fast', 'slow'] },
    ],
  }));
  await gw.users.put('alice', 'alice-password-1');
  for (const e of ENDPOINTS) tokens[e] = (await issueToken(gw, 'alice', e)).access_token;
  fastOnly = (await issueToken(gw, 'alice', '/ack', 'mcp:fast')).access_token;
});

// The gateway first (its listeners hold member streams open), the members after.
afterAll(async () => {
  await gw?.close(0);
  await params?.close();
  await old?.close();
  await fast?.close();
  await slow?.close();
});

const auth = (endpoint: Endpoint, token = tokens[endpoint]) => ({ authorization: `Bearer ${token}` });
const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** A raw 2026-07-28 request to a federated endpoint. */
function post2026(endpoint: Endpoint, method: string, p: Record<string, unknown> = {}, token?: string) {
  const req = request2026(method, p);
  return fetch(`${base}${endpoint}`, {
    method: 'POST',
    headers: { ...auth(endpoint, token), ...req.headers },
    body: req.body,
  });
}

async function sdk1(endpoint: Endpoint) {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  await client.connect(
    new TransportV1(new URL(`${base}${endpoint}`), { requestInit: { headers: auth(endpoint) } }),
  );
  return client;
}

async function sdk2(endpoint: Endpoint) {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: V2026 } } },
  );
  await client.connect(
    new TransportV2(new URL(`${base}${endpoint}`), { requestInit: { headers: auth(endpoint) } }),
  );
  return client;
}

describe('federated endpoint and the 2026-07-28 spec', () => {
  it("a member tool's x-mcp-header arguments are mirrored into Mcp-Param-* headers (Base64 where plain text cannot carry them)", async () => {
    const client = await sdk2('/mcp');
    const tools = (await client.listTools()).tools;
    expect(tools.find((t) => t.name === 'where')?.inputSchema.properties?.region).toMatchObject({
      'x-mcp-header': 'Region',
    });
    paramCalls.length = 0;
    const args = { region: 'eu-west', opts: { zone: 'b' }, note: ' grüße ' };
    expect(textOf(await client.callTool({ name: 'where', arguments: args }))).toBe('eu-west|b| grüße ');
    expect(paramCalls).toEqual([
      {
        'mcp-param-region': 'eu-west',
        'mcp-param-zone': 'b',
        'mcp-param-note': `=?base64?${Buffer.from(' grüße ').toString('base64')}?=`,
      },
    ]);
    await client.close();
    // A 2025 session's call reaches the member the same way (members are asked at 2026-07-28).
    const v1 = await sdk1('/mcp');
    expect(textOf(await v1.callTool({ name: 'where', arguments: { region: 'us' } }))).toBe('us');
    await v1.close();
  });

  it('a call before any list (a 2025 session: its caller is not checked): the member refuses it (-32020), the endpoint lists and asks again with the headers', async () => {
    // A 2026-07-28 call is checked against the declarations, so the endpoint lists before it asks.
    const session = await rawSession(`${base}/all`, tokens['/all']!, '2025-11-25');
    paramCalls.length = 0;
    const res = await fetch(`${base}/all`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'params__where', arguments: { region: 'ap' } },
      }),
    });
    const body = (await res.json()) as { result?: object; error?: object };
    expect(body.error).toBeUndefined();
    expect(textOf(body.result!)).toBe('ap');
    expect(paramCalls).toEqual([{}, { 'mcp-param-region': 'ap' }]);
  });

  it('an unknown method, and ping (removed in 2026-07-28), are 404 with -32601; a 2025 session keeps ping', async () => {
    for (const method of ['no/such-method', 'ping', 'logging/setLevel']) {
      const res = await post2026('/mcp', method, method === 'logging/setLevel' ? { level: 'info' } : {});
      expect(res.status, method).toBe(404);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
    }
    const client = await sdk1('/mcp');
    await expect(client.ping()).resolves.toEqual({});
    await client.close();
  });

  it('server/discover and a -32022 name every revision the endpoint serves, 2025 ones included, and a 2025 session opens with each', async () => {
    const discover = await post2026('/mcp', 'server/discover');
    const { result } = (await discover.json()) as { result: { supportedVersions: string[] } };
    expect(result.supportedVersions).toEqual(SERVED);
    const unknown = '2099-01-01';
    const req = request2026(
      'tools/list',
      {},
      { meta: { 'io.modelcontextprotocol/protocolVersion': unknown } },
    );
    const refused = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp'), ...req.headers, 'mcp-protocol-version': unknown },
      body: req.body,
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { code: -32022, data: { supported: SERVED, requested: unknown } },
    });
    // Each 2025-era revision listed is one a session is opened with.
    for (const version of SERVED.filter((v) => v !== V2026)) {
      const init = await rawInitialize(`${base}/mcp`, tokens['/mcp']!, version);
      const opened = (await init.json()) as { result: { protocolVersion: string } };
      expect(opened.result.protocolVersion, version).toBe(version);
      const session = { ...auth('/mcp'), 'mcp-session-id': init.headers.get('mcp-session-id')! };
      expect((await fetch(`${base}/mcp`, { method: 'DELETE', headers: session })).status).toBe(200);
    }
  });

  it('an unknown resource is -32602 at 2026-07-28 (which forbids -32002), still -32002 in a 2025 session', async () => {
    const read = await post2026('/mcp', 'resources/read', { uri: 'nowhere://x' });
    expect(((await read.json()) as { error: { code: number } }).error.code).toBe(-32602);
    const ref = { type: 'ref/resource', uri: 'nowhere://{x}' };
    const complete = await post2026('/mcp', 'completion/complete', {
      ref,
      argument: { name: 'x', value: '' },
    });
    expect(((await complete.json()) as { error: { code: number } }).error.code).toBe(-32602);
    const client = await sdk1('/mcp');
    const code = await client.readResource({ uri: 'nowhere://x' }).then(
      () => undefined,
      (err: unknown) => (err as McpError).code,
    );
    expect(code).toBe(-32002);
    await client.close();
  });

  it("resources/read of a 2025-only member's resource carries caching hints at 2026-07-28", async () => {
    const res = await post2026('/mcp', 'resources/read', { uri: 'old://doc' });
    const { result } = (await res.json()) as { result: Record<string, unknown> };
    expect(result).toMatchObject({
      resultType: 'complete',
      contents: [{ uri: 'old://doc', text: 'old' }],
      ttlMs: 0,
      cacheScope: 'private',
    });
  });

  it("subscriptions/listen: nothing precedes the acknowledgement, not even a change heard while a member's listen opens", async () => {
    // The first listener admits only `fast`: the user's listen with it is open and acknowledged.
    const listen = request2026('subscriptions/listen', { notifications: { toolsListChanged: true } });
    const open = (token: string) =>
      fetch(`${base}/ack`, {
        method: 'POST',
        headers: { ...auth('/ack', token), ...listen.headers },
        body: listen.body,
      });
    const aEvents = sseMessages((await open(fastOnly)).body!);
    expect((await aEvents.next()).value).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
    });
    // The second may use `slow` too: its listen waits for slow's, which is not acknowledged yet.
    const b = open(tokens['/ack']!);
    await slow.listened(0);
    // fast's change reaches every listener of the user at once: the first one shows it came.
    fast.toolsChanged();
    expect((await aEvents.next()).value).toMatchObject({ method: 'notifications/tools/list_changed' });
    slow.acknowledge();
    const bEvents = sseMessages((await b).body!);
    const seen = [(await bEvents.next()).value, (await bEvents.next()).value] as Array<{ method: string }>;
    expect(seen.map((m) => m.method)).toEqual([
      'notifications/subscriptions/acknowledged',
      'notifications/tools/list_changed',
    ]);
    await aEvents.return(undefined);
    await bEvents.return(undefined);
  });
});
