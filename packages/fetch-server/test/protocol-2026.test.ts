import { listenNode, type Listening } from '@mcp-gateway/testkit';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createFetchServer,
  silentLogger,
  toNodeListener,
  type FetchServerOptions,
  type ResolvedAddress,
} from '../src/index.js';
import { SERVED_PROTOCOL_VERSIONS } from '../src/protocol/versions.js';
import { MCP_HEADERS, rawRequest, toolText } from './helpers/http.js';
import { MAIN_MARKER, startSite } from './helpers/site.js';

// MCP 2026-07-28 (SEP-2575 no initialize, SEP-2567 no session, SEP-2243 headers, SEP-2549 caching)
// served beside the 2025-era wire on one URL.

const V = '2026-07-28';
const SITE_HOST = 'site.test';
let site: Awaited<ReturnType<typeof startSite>>;
let siteUrl = '';
const servers: { l: Listening; close: () => Promise<void> }[] = [];
const clients: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  site = await startSite();
  siteUrl = `http://${SITE_HOST}:${new URL(site.url).port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map(async (s) => (await s.close(), s.l.close())));
});
afterAll(() => site.close());

/** The test site answers as `site.test`, through an injected resolver (loopback only). */
const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
  if (hostname !== SITE_HOST) throw new Error(`unexpected lookup of ${hostname}`);
  return [{ address: '127.0.0.1', family: 4 }];
};

async function startServer(options: FetchServerOptions = {}) {
  const handler = createFetchServer({
    allowHosts: [SITE_HOST],
    resolver,
    ignoreRobotsTxt: true,
    logger: silentLogger,
    ...options,
  });
  const l = await listenNode(toNodeListener(handler));
  servers.push({ l, close: handler.close });
  return { ...l, handler, mcpUrl: `${l.url}/mcp` };
}

const META = {
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientInfo': { name: 'raw-2026', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The name a method's `Mcp-Name` header mirrors (`params.name` or `params.uri`). */
function nameOf(params: Record<string, unknown>): string | undefined {
  const v = params.name ?? params.uri;
  return typeof v === 'string' ? v : undefined;
}

/**
 * One 2026-07-28 request as a spec-following client sends it: `_meta`
 * envelope, `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`; `headers`
 * override (a `null` value drops the header).
 */
async function send2026(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string | null> = {},
  id = 1,
) {
  const name = nameOf(params);
  const all: Record<string, string | null> = {
    ...MCP_HEADERS,
    'mcp-protocol-version': V,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
    ...headers,
  };
  const res = await rawRequest(url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null)),
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: META, ...params } }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a raw JSON-RPC body; the assertions check its shape
  return { ...res, json: JSON.parse(res.body) as Record<string, any> };
}

const text = toolText;

describe('2026-07-28: stateless requests, no initialize, no session', () => {
  it('sep-2575: server/discover is answered without initialize or session id, listing every served version', async () => {
    const server = await startServer();
    const res = await send2026(server.mcpUrl, 'server/discover', {}, {}, 'd-1' as unknown as number);
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    expect(res.json).toMatchObject({
      jsonrpc: '2.0',
      id: 'd-1',
      result: {
        resultType: 'complete',
        supportedVersions: [...SERVED_PROTOCOL_VERSIONS],
        capabilities: { tools: { listChanged: false }, prompts: { listChanged: false } },
        _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-gateway-fetch' } },
        cacheScope: 'public',
        ttlMs: 3_600_000,
      },
    });
    expect(res.json.result.capabilities.resources).toBeUndefined();
  });

  it('sep-2549: tools/list carries the fetch tool and caching hints (ttlMs, cacheScope)', async () => {
    const server = await startServer();
    const res = await send2026(server.mcpUrl, 'tools/list');
    expect(res.status).toBe(200);
    const { result } = res.json;
    expect(result.tools.map((t: { name: string }) => t.name)).toEqual(['fetch']);
    expect(result.tools[0].inputSchema.required).toEqual(['url']);
    expect(result.tools[0].inputSchema.properties.max_length).toMatchObject({
      type: 'integer',
      default: 5000,
    });
    // Same for every caller, fixed for the process: public, one hour.
    expect(result).toMatchObject({ resultType: 'complete', cacheScope: 'public', ttlMs: 3_600_000 });
  });

  it('tools/call of fetch with per-request _meta fetches the page (loopback target via the injected resolver)', async () => {
    const server = await startServer();
    const res = await send2026(server.mcpUrl, 'tools/call', {
      name: 'fetch',
      arguments: { url: `${siteUrl}/article`, max_length: 50_000 },
    });
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    expect(res.json.result.resultType).toBe('complete');
    expect(res.json.result.isError).toBeUndefined();
    expect(text(res.json.result)).toContain(`Contents of ${siteUrl}/article:\n`);
    expect(text(res.json.result)).toContain(MAIN_MARKER);
  });

  it('a refused fetch is an isError tool result on the 2026 wire too (SSRF check unchanged)', async () => {
    const server = await startServer({ allowHosts: [] });
    const res = await send2026(server.mcpUrl, 'tools/call', {
      name: 'fetch',
      arguments: { url: `${siteUrl}/article` },
    });
    expect(res.json.result).toMatchObject({ isError: true, resultType: 'complete' });
    expect(text(res.json.result)).toMatch(/^Refused to fetch .*SSRF protection/);
  });

  it('the fetch prompt answers prompts/get', async () => {
    const server = await startServer();
    const res = await send2026(server.mcpUrl, 'prompts/get', {
      name: 'fetch',
      arguments: { url: `${siteUrl}/text` },
    });
    expect(res.json.result).toMatchObject({
      description: `Contents of ${siteUrl}/text`,
      messages: [{ role: 'user', content: { type: 'text' } }],
    });
  });

  it('with jsonResponse: false the 2026 answer is an SSE stream', async () => {
    const server = await startServer({ jsonResponse: false });
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: META } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.body).toMatch(/^data: \{.*"name":"fetch"/m);
  });

  it('with jsonResponse: false server/discover, an SSE stream, lists every served version too', async () => {
    const server = await startServer({ jsonResponse: false });
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'server/discover' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'server/discover', params: { _meta: META } }),
    });
    expect(res.headers['content-type']).toBe('text/event-stream');
    const data = /^data: (.*)$/m.exec(res.body)?.[1];
    expect(JSON.parse(data!)).toMatchObject({
      id: 4,
      result: { resultType: 'complete', supportedVersions: [...SERVED_PROTOCOL_VERSIONS] },
    });
  });
});

describe('2026-07-28: cancellation', () => {
  it('closing the response stream cancels the tool call: the target connection is closed', async () => {
    let arrived!: () => void;
    let targetClosed!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const closed = new Promise<void>((r) => (targetClosed = r));
    // A target that sends headers and part of a body, then stalls until the fetcher lets go.
    const target = await listenNode((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('the start, and then nothing');
      req.socket.once('close', targetClosed);
      arrived();
    });
    try {
      const server = await startServer({ jsonResponse: false, timeoutMs: 60_000 });
      const aborter = new AbortController();
      const call = fetch(server.mcpUrl, {
        method: 'POST',
        signal: aborter.signal,
        headers: {
          ...MCP_HEADERS,
          'mcp-protocol-version': V,
          'mcp-method': 'tools/call',
          'mcp-name': 'fetch',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 5,
          method: 'tools/call',
          params: { _meta: META, name: 'fetch', arguments: { url: `http://${SITE_HOST}:${target.port}/` } },
        }),
      }).catch(() => undefined);
      await arrival;
      aborter.abort();
      await call;
      await closed;
    } finally {
      await target.close();
    }
  });
});

describe('2026-07-28: errors the spec names', () => {
  it.each([
    ['Mcp-Method differs from the body method', 'tools/list', {}, { 'mcp-method': 'prompts/list' }],
    ['Mcp-Method is missing', 'tools/list', {}, { 'mcp-method': null }],
    [
      'Mcp-Method differs in case only (values are case-sensitive)',
      'tools/list',
      {},
      { 'mcp-method': 'TOOLS/LIST' },
    ],
    [
      'Mcp-Name differs from params.name',
      'tools/call',
      { name: 'fetch', arguments: { url: 'http://x.test/' } },
      { 'mcp-name': 'other' },
    ],
    [
      'Mcp-Name is missing on tools/call',
      'tools/call',
      { name: 'fetch', arguments: { url: 'http://x.test/' } },
      { 'mcp-name': null },
    ],
    [
      'Mcp-Name differs from prompts/get params.name',
      'prompts/get',
      { name: 'fetch', arguments: { url: 'u' } },
      { 'mcp-name': 'x' },
    ],
  ])(
    'sep-2243: %s → 400 HeaderMismatch (-32020) with the request id',
    async (_rule, method, params, headers) => {
      const server = await startServer();
      const res = await send2026(server.mcpUrl, method, params, headers, 41);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: 41, error: { code: -32020 } });
    },
  );

  it('sep-2243: header names are case-insensitive and values are trimmed', async () => {
    const server = await startServer();
    const res = await send2026(
      server.mcpUrl,
      'tools/call',
      { name: 'fetch', arguments: { url: `${siteUrl}/text` } },
      { 'mcp-method': null, 'mcp-name': null, 'MCP-METHOD': 'tools/call', 'Mcp-Name': '  fetch  ' },
    );
    expect(res.status).toBe(200);
    expect(text(res.json.result)).toContain('just some text');
  });

  it('the nothing-executed rule: a mismatched tools/call does not fetch', async () => {
    let fetched = 0;
    const server = await startServer({
      resolver: async (h) => (fetched++, resolver(h)),
    });
    const res = await send2026(
      server.mcpUrl,
      'tools/call',
      { name: 'fetch', arguments: { url: `${siteUrl}/text` } },
      { 'mcp-name': 'not-fetch' },
    );
    expect(res.status).toBe(400);
    expect(fetched).toBe(0);
  });

  it('MCP-Protocol-Version header differing from _meta protocolVersion → 400 HeaderMismatch (-32020)', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'server/discover' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'server/discover',
        params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ id: 7, error: { code: -32020 } });
  });

  it('an unsupported revision → 400 UnsupportedProtocolVersionError (-32022) listing every served version, 2025 ones included', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/list',
        params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      jsonrpc: '2.0',
      id: 8,
      error: { code: -32022, data: { supported: [...SERVED_PROTOCOL_VERSIONS], requested: '2099-01-01' } },
    });
  });

  it.each([
    ['no _meta at all', {}],
    ['_meta without clientCapabilities', { 'io.modelcontextprotocol/protocolVersion': V }],
  ])('a 2026 request with %s → 400 Invalid params (-32602)', async (_case, meta) => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: meta } }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ id: 9, error: { code: -32602 } });
  });

  it.each(['initialize', 'ping', 'logging/setLevel', 'resources/list', 'no/such-method'])(
    'removed or unknown method %s on the 2026 wire → 404 Method not found (-32601)',
    async (method) => {
      const server = await startServer();
      const res = await send2026(server.mcpUrl, method, {}, {}, 11);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ id: 11, error: { code: -32601 } });
    },
  );

  it('a 2026 body over the cap is 413 before parsing', async () => {
    const server = await startServer({ maxBodyBytes: 1024 });
    const res = await send2026(server.mcpUrl, 'tools/list', { pad: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: { code: -32000 } });
  });

  it('the Host/Origin guard runs before the era is decided', async () => {
    const server = await startServer();
    const res = await send2026(server.mcpUrl, 'server/discover', {}, { host: 'evil.example' });
    expect(res.status).toBe(403);
  });
});

describe('2026-07-28: subscriptions/listen', () => {
  it('nothing to subscribe to: the ack carries an empty filter and the stream ends at once (no stream is held)', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen-1',
        method: 'subscriptions/listen',
        params: { _meta: META, notifications: { toolsListChanged: true, promptsListChanged: true } },
      }),
    });
    // rawRequest resolves on the end of the body: the server closed the stream by itself.
    expect(res.headers['content-type']).toBe('text/event-stream');
    const frames = [...res.body.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    expect(frames).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: {}, _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } },
      },
      expect.objectContaining({
        id: 'listen-1',
        result: expect.objectContaining({ resultType: 'complete' }),
      }),
    ]);
  });
});

describe('both eras on one URL', () => {
  it('a 2025 session and 2026 stateless requests interleave on the same URL (stateful mode)', async () => {
    let n = 0;
    const server = await startServer({
      stateful: true,
      sessionIdGenerator: () => `s-${++n}`,
      maxSessions: 1,
    });
    const legacy = new Client({ name: 'legacy', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl));
    await legacy.connect(transport);
    clients.push(legacy);
    expect(transport.sessionId).toBe('s-1');

    for (let i = 0; i < 3; i++) {
      const [old, now] = await Promise.all([
        legacy.callTool({ name: 'fetch', arguments: { url: `${siteUrl}/text` } }),
        // A stray session id on a 2026 request is ignored, not echoed (2026-07-28 backward compatibility).
        send2026(
          server.mcpUrl,
          'tools/call',
          { name: 'fetch', arguments: { url: `${siteUrl}/text` } },
          {
            'mcp-session-id': 's-1',
          },
        ),
      ]);
      expect(text(old)).toContain('just some text');
      expect(text(now.json.result)).toContain('just some text');
      expect(now.headers['mcp-session-id']).toBeUndefined();
    }
    // 2026 requests opened no session: the cap of one is still held by the 2025 client alone.
    expect(n).toBe(1);
    expect((await legacy.listTools()).tools.map((t) => t.name)).toEqual(['fetch']);
  });

  it('2025-era requests keep the 2025 answers (initialize, no caching hints, no resultType)', async () => {
    const server = await startServer();
    const init = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(JSON.parse(init.body).result).toMatchObject({ protocolVersion: '2025-11-25' });
    const list = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    const result = JSON.parse(list.body).result;
    expect(result.tools).toHaveLength(1);
    expect(result.ttlMs).toBeUndefined();
    expect(result.resultType).toBeUndefined();
  });
});

describe('MCP SDK 2.x client', () => {
  it.each([
    ['pinned to 2026-07-28', { pin: V }],
    ['in auto mode', 'auto' as const],
  ])('%s negotiates the modern era and calls fetch', async (_mode, mode) => {
    const server = await startServer();
    const client = new ClientV2({ name: 'sdk2', version: '1' }, { versionNegotiation: { mode } });
    await client.connect(new TransportV2(new URL(server.mcpUrl)));
    clients.push(client);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getServerVersion()?.name).toBe('mcp-gateway-fetch');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['fetch']);
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${siteUrl}/article`, max_length: 50_000 },
    });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain(MAIN_MARKER);
  });

  it('in legacy mode (the default) it still gets a 2025 session', async () => {
    const server = await startServer();
    const client = new ClientV2({ name: 'sdk2-legacy', version: '1' });
    await client.connect(new TransportV2(new URL(server.mcpUrl)));
    clients.push(client);
    expect(client.getProtocolEra()).toBe('legacy');
    const result = await client.callTool({ name: 'fetch', arguments: { url: `${siteUrl}/text` } });
    expect(text(result)).toContain('just some text');
  });
});
