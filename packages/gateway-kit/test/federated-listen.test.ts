// Issue 20, merged list-changed notifications: the testkit's stdio fixture (real children,
// its `change-list` tool adds a tool and sends `notifications/tools/list_changed`) behind a
// federated endpoint of a real gateway on 127.0.0.1; the MCP SDK 1.x client hears it on its
// 2025 session's GET stream, the SDK 2.x client pinned to 2026-07-28 on subscriptions/listen,
// and a new tools/list shows the added tool. The listeners are bounded per user and per endpoint.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import { fixtureMcpServerCommand, listen, type Listening } from '@mcp-gateway/testkit';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';

const V2026 = '2026-07-28';
const SUB = 'io.modelcontextprotocol/subscriptionId';
const ENDPOINTS = ['/mcp', '/small', '/tiny', '/static', '/remote', '/old'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

let gw: Gateway;
let base: string;
const tokens: Partial<Record<Endpoint, string>> = {};
/** Bob's token for `/tiny` (the endpoint-wide cap is reached by two users). */
let bobTiny: string;
/** An `http` member: the stdio bridge over the fixture, speaking 2026-07-28 on loopback. */
let bridge: StdioBridge;
let remote: Listening;
/** `subscriptions/listen` streams the `http` member opened, and those that ended since. */
const remoteListens = { opened: 0, ended: 0 };

/** The bridge, counting its listen streams as they open and end. */
async function remoteMember(): Promise<void> {
  bridge = createStdioBridge({ ...fixtureMcpServerCommand(), allowedHosts: 'loopback' });
  remote = await listen(async (request) => {
    const res = await bridge.fetch(request);
    if (request.headers.get('mcp-method') !== 'subscriptions/listen' || !res.body) return res;
    remoteListens.opened++;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (c) => {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: async () => {
        remoteListens.ended++;
        await reader.cancel();
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  });
}

/** A 2025-only member: its `grow` tool adds a tool to every session's server (each tells its GET stream). */
const servers = new Set<McpServer>();
let grown = 0;
let old: LegacyServer;

async function oldMember(): Promise<void> {
  old = await legacyMcpServer((mcp) => {
    servers.add(mcp);
    mcp.registerTool('grow', {}, () => {
      const name = `grown-${++grown}`;
      for (const m of servers) m.registerTool(name, {}, () => ({ content: [] }));
      return { content: [{ type: 'text', text: name }] };
    });
  });
}

beforeAll(async () => {
  await remoteMember();
  await oldMember();
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
      bridge: { type: 'http', url: `${remote.url}/mcp` },
      old: { type: 'http', url: `${old.url}/mcp` },
    },
    federated: [
      { path: '/mcp', services: ['fetch', 'fixture'] },
      { path: '/small', services: ['fixture'], maxListenersPerUser: 1 },
      { path: '/tiny', services: ['fixture'], maxListeners: 1 },
      // The fetch service's list never changes: nothing to listen to.
      { path: '/static', services: ['fetch'] },
      { path: '/remote', services: ['fetch', 'bridge'] },
      { path: '/old', services: ['old'] },
    ],
  }));
  await gw.users.put('alice', 'alice-password-1');
  for (const e of ENDPOINTS) tokens[e] = (await issueToken(gw, 'alice', e)).access_token;
  await gw.users.put('bob', 'bob-password-12');
  bobTiny = (await issueToken(gw, 'bob', '/tiny')).access_token;
});

// The gateway first, as its listeners hold member streams open (listeningGateway's close after the
// file then finds it closed); the members behind it after.
afterAll(async () => {
  await gw?.close(0);
  await remote?.close();
  await bridge?.close();
  await old?.close();
});

const auth = (endpoint: Endpoint) => ({ authorization: `Bearer ${tokens[endpoint]}` });
const names = (r: { tools: Array<{ name: string }> }) => r.tools.map((t) => t.name);
const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** A resolvable promise. */
function signal<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A raw 2026-07-28 request to a federated endpoint. */
function post2026(
  endpoint: Endpoint,
  id: number,
  method: string,
  params: object,
  ac?: AbortController,
  token = tokens[endpoint],
) {
  return fetch(`${base}${endpoint}`, {
    method: 'POST',
    signal: ac?.signal ?? null,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': method,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2026,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
}

/**
 * The first 200 of `open()`, tried until the gateway has seen an aborted stream go (it removes
 * it then, making room again).
 */
function onceAccepted(open: () => Promise<Response>): Promise<Response> {
  return vi.waitFor(
    async () => {
      const res = await open();
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`still ${res.status}`);
      }
      return res;
    },
    { timeout: 5000, interval: 20 },
  );
}

describe('federated list-changed notifications', () => {
  it('2025 session (SDK 1.x): the GET stream carries tools/list_changed; a new tools/list shows the tool', async () => {
    const streamOpen = signal<number>();
    const changed = signal();
    const client = new ClientV1({ name: 'sdk1', version: '1' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve());
    const transport = new TransportV1(new URL(`${base}/mcp`), {
      requestInit: { headers: auth('/mcp') },
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (init?.method === 'GET') streamOpen.resolve(res.status);
        return res;
      },
    });
    await client.connect(transport);
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
    expect(await streamOpen.promise).toBe(200);
    const added = textOf(await client.callTool({ name: 'change-list', arguments: { kind: 'tool' } }));
    await changed.promise;
    expect(names(await client.listTools())).toContain(added);
    await client.close();
  });

  it('2026-07-28 (SDK 2.x): subscriptions/listen carries tools/list_changed; a new tools/list shows the tool', async () => {
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { versionNegotiation: { mode: { pin: V2026 } } },
    );
    await client.connect(new TransportV2(new URL(`${base}/mcp`), { requestInit: { headers: auth('/mcp') } }));
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
    const changed = signal();
    client.setNotificationHandler('notifications/tools/list_changed', () => changed.resolve());
    const sub = await client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter).toEqual({ toolsListChanged: true });
    const added = textOf(await client.callTool({ name: 'change-list', arguments: { kind: 'tool' } }));
    await changed.promise;
    expect(names(await client.listTools())).toContain(added);
    await sub.close();
    await client.close();
  });

  it('a prompt change is forwarded as prompts/list_changed, only to a subscription that asked for it', async () => {
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { versionNegotiation: { mode: { pin: V2026 } } },
    );
    await client.connect(new TransportV2(new URL(`${base}/mcp`), { requestInit: { headers: auth('/mcp') } }));
    const prompts = signal();
    let tools = 0;
    client.setNotificationHandler('notifications/prompts/list_changed', () => prompts.resolve());
    client.setNotificationHandler('notifications/tools/list_changed', () => void tools++);
    const sub = await client.listen({ promptsListChanged: true });
    expect(sub.honoredFilter).toEqual({ promptsListChanged: true });
    const added = textOf(await client.callTool({ name: 'change-list', arguments: { kind: 'prompt' } }));
    await prompts.promise;
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain(added);
    expect(tools).toBe(0);
    await sub.close();
    await client.close();
  });

  it('an http member speaking 2026-07-28 is heard through its own subscriptions/listen, held only while the user listens', async () => {
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { versionNegotiation: { mode: { pin: V2026 } } },
    );
    await client.connect(
      new TransportV2(new URL(`${base}/remote`), { requestInit: { headers: auth('/remote') } }),
    );
    const changed = signal();
    client.setNotificationHandler('notifications/tools/list_changed', () => changed.resolve());
    const before = { ...remoteListens };
    const sub = await client.listen({ toolsListChanged: true });
    // One upstream listen for the user's first listener: the fetch member has nothing to listen to.
    expect(remoteListens.opened).toBe(before.opened + 1);
    const added = textOf(await client.callTool({ name: 'change-list', arguments: { kind: 'tool' } }));
    await changed.promise;
    expect(names(await client.listTools())).toContain(added);
    await sub.close();
    // The user's last listener gone, the upstream listen is closed.
    await vi.waitFor(() => expect(remoteListens.ended).toBe(before.ended + 1));
    await client.close();
  });

  it('a 2025-only http member is heard on the GET stream of a session of its own', async () => {
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { versionNegotiation: { mode: { pin: V2026 } } },
    );
    await client.connect(new TransportV2(new URL(`${base}/old`), { requestInit: { headers: auth('/old') } }));
    const changed = signal();
    client.setNotificationHandler('notifications/tools/list_changed', () => changed.resolve());
    const sub = await client.listen({ toolsListChanged: true });
    // The member refused the 2026 listen: the endpoint opened a session with it and its GET stream.
    await vi.waitFor(() => expect(old.gets).toBe(1));
    const added = textOf(await client.callTool({ name: 'grow', arguments: {} }));
    await changed.promise;
    expect(names(await client.listTools())).toContain(added);
    await sub.close();
    // The user's last listener gone, the watch's session with the member is ended (DELETE).
    await vi.waitFor(() => expect(old.ended).toHaveLength(1));
    await client.close();
  });

  it('an endpoint of fixed-list members declares no list changes', async () => {
    const client = new ClientV1({ name: 'sdk1', version: '1' });
    await client.connect(
      new TransportV1(new URL(`${base}/static`), { requestInit: { headers: auth('/static') } }),
    );
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(false);
    await client.close();
    // A 2026 listen there is acknowledged with the empty filter and ends at once.
    const res = await post2026('/static', 1, 'subscriptions/listen', {
      notifications: { toolsListChanged: true },
    });
    const text = await res.text();
    expect(text).toContain('"notifications":{}');
    expect(text).toContain('"resultType":"complete"');
  });

  it('bounded: a listener over the per-user cap gets 429 and -32603; a closed one makes room', async () => {
    const first = new AbortController();
    const open = await post2026(
      '/small',
      1,
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      first,
    );
    expect(open.status).toBe(200);
    expect(open.headers.get('content-type')).toContain('text/event-stream');
    const reader = open.body!.getReader();
    const ack = new TextDecoder().decode((await reader.read()).value);
    expect(ack).toContain('notifications/subscriptions/acknowledged');
    expect(ack).toContain(`"${SUB}":1`);

    const refused = await post2026('/small', 2, 'subscriptions/listen', {
      notifications: { toolsListChanged: true },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    const body = (await refused.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(2);
    // A 2026-07-28 caller gets no legacy code (-32000…-32019): -32603 for 429 and 5xx, as the bridge answers.
    expect(body.error.code).toBe(-32603);
    expect(body.error.message).toMatch(/too many/i);

    first.abort();
    await reader.cancel().catch(() => {});
    // The aborted stream is removed once the gateway sees the client go: then there is room again.
    const again = await onceAccepted(() =>
      post2026('/small', 3, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
    );
    await again.body!.cancel();
  });
  it("bounded overall: past the endpoint's maxListeners another user's listener gets 503; a closed one makes room", async () => {
    const listen = (id: number, token: string | undefined, ac?: AbortController) =>
      post2026('/tiny', id, 'subscriptions/listen', { notifications: { toolsListChanged: true } }, ac, token);
    const first = new AbortController();
    const open = await listen(1, tokens['/tiny'], first);
    expect(open.status).toBe(200);
    const reader = open.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(
      'notifications/subscriptions/acknowledged',
    );

    const refused = await listen(2, bobTiny);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    const body = (await refused.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(2);
    // A 2026-07-28 caller gets no legacy code (-32000…-32019): -32603 for 429 and 5xx, as the bridge answers.
    expect(body.error.code).toBe(-32603);
    expect(body.error.message).toMatch(/too many list-change streams/i);

    first.abort();
    await reader.cancel().catch(() => {});
    const again = await onceAccepted(() => listen(3, bobTiny));
    await again.body!.cancel();
  });
});
