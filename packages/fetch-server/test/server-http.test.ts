import { listenNode, type Listening } from '@mcp-gateway/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFetchServer, silentLogger, toNodeListener, type FetchServerOptions } from '../src/index.js';
import { MCP_HEADERS, initializeBody, rawRequest, toolText } from './helpers/http.js';
import { MAIN_MARKER, startSite } from './helpers/site.js';

let site: Awaited<ReturnType<typeof startSite>>;
const servers: { l: Listening; close: () => Promise<void> }[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  site = await startSite();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map(async (s) => (await s.close(), s.l.close())));
});
afterAll(() => site.close());

async function startServer(options: FetchServerOptions = {}) {
  const handler = createFetchServer({
    allowHosts: ['127.0.0.1'],
    ignoreRobotsTxt: true,
    logger: silentLogger,
    ...options,
  });
  const l = await listenNode(toNodeListener(handler));
  servers.push({ l, close: handler.close });
  return { ...l, handler, mcpUrl: `${l.url}${options.path ?? '/mcp'}` };
}

async function connect(
  url: string,
  options?: ConstructorParameters<typeof StreamableHTTPClientTransport>[1],
) {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), options);
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const text = toolText;

describe('mcp over Streamable HTTP (stateless, default)', () => {
  it('lists the fetch tool with the official argument names and defaults', async () => {
    const server = await startServer();
    const { client } = await connect(server.mcpUrl);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['fetch']);
    const schema = tools[0]!.inputSchema as {
      properties: Record<string, { type: string; default?: unknown }>;
      required?: string[];
    };
    expect(Object.keys(schema.properties).sort()).toEqual(['max_length', 'raw', 'start_index', 'url']);
    expect(schema.required).toEqual(['url']);
    expect(schema.properties.max_length).toMatchObject({ type: 'integer', default: 5000 });
    expect(schema.properties.start_index).toMatchObject({ type: 'integer', default: 0 });
    expect(schema.properties.raw).toMatchObject({ type: 'boolean', default: false });
  });

  it('the SDK client calls fetch and gets the simplified page', async () => {
    const server = await startServer();
    const { client } = await connect(server.mcpUrl);
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${site.url}/article`, max_length: 50_000 },
    });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain(`Contents of ${site.url}/article:\n`);
    expect(text(result)).toContain(MAIN_MARKER);
    expect(text(result)).not.toContain('NAVBOILERPLATE');
  });

  it('a refused fetch is a tool result with isError, and the server keeps serving', async () => {
    const server = await startServer({ allowHosts: [] });
    const { client } = await connect(server.mcpUrl);
    const refused = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/article` } });
    expect(refused).toMatchObject({
      isError: true,
      content: [
        {
          type: 'text',
          text: `Refused to fetch ${site.url}: 127.0.0.1 is a loopback address. Requests to internal networks are blocked (SSRF protection).`,
        },
      ],
    });
    expect((await client.listTools()).tools).toHaveLength(1);
  });

  it.each([
    [{ url: 'http://x.test/', max_length: 1_000_001 }, 'max_length'],
    [{ url: 'http://x.test/', max_length: 0 }, 'max_length'],
    [{ url: 'http://x.test/', start_index: -1 }, 'start_index'],
    [{ url: 'http://x.test/', raw: 'yes' }, 'raw'],
    [{ max_length: 10 }, 'url'],
  ])('invalid arguments %j are an InvalidParams (-32602) tool error naming %s', async (args, field) => {
    const server = await startServer();
    const { client } = await connect(server.mcpUrl);
    const result = await client.callTool({ name: 'fetch', arguments: args });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /^MCP error -32602: Input validation error: Invalid arguments for tool fetch: /,
    );
    expect(text(result)).toContain(field);
  });

  it('the fetch prompt returns the page as a user message', async () => {
    const server = await startServer();
    const { client } = await connect(server.mcpUrl);
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['fetch']);
    const prompt = await client.getPrompt({ name: 'fetch', arguments: { url: `${site.url}/text` } });
    expect(prompt.description).toBe(`Contents of ${site.url}/text`);
    expect(prompt.messages[0]).toEqual({
      role: 'user',
      content: {
        type: 'text',
        text: 'Content type text/plain cannot be simplified to markdown, but here is the raw content:\njust some text\nsecond line',
      },
    });
  });

  it('with jsonResponse: false the answers stream as SSE through the node adapter', async () => {
    const server = await startServer({ jsonResponse: false });
    const raw = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: initializeBody,
    });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('text/event-stream');
    expect(raw.body).toMatch(/^event: message\ndata: \{.*"serverInfo":\{"name":"mcp-gateway-fetch"/m);
    const { client } = await connect(server.mcpUrl);
    const result = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/text` } });
    expect(text(result)).toContain('just some text');
  });

  it('a Host header that cannot form a URL is a 400 from the node adapter', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, host: 'bad host:x' },
      body: initializeBody,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Bad Request: invalid Host header' },
      id: null,
    });
  });

  it('GET and DELETE on the endpoint answer 405 in stateless mode', async () => {
    const server = await startServer();
    for (const method of ['GET', 'DELETE']) {
      const res = await rawRequest(server.mcpUrl, { method, headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(JSON.parse(res.body)).toEqual({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed.' },
        id: null,
      });
    }
  });

  it('malformed JSON is a JSON-RPC parse error (-32700)', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: '{not json' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
  });

  it('a body over the cap is refused with 413 before parsing', async () => {
    const server = await startServer({ maxBodyBytes: 1024 });
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2048) } }),
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Payload Too Large: Request body must not exceed 1024 bytes' },
      id: null,
    });
  });
});

describe('http edge: Host and Origin checks (DNS rebinding guard)', () => {
  it('a foreign Host header is refused with 403 and the request is not processed', async () => {
    const server = await startServer();
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, host: 'attacker.example' },
      body: initializeBody,
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Forbidden: Host header not allowed' },
      id: null,
    });
  });

  it('loopback Host names with any port are accepted by default', async () => {
    const server = await startServer();
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      const res = await rawRequest(server.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, host },
        body: initializeBody,
      });
      expect(res.status).toBe(200);
    }
  });

  it('a cross-site Origin is refused with 403; a loopback Origin is accepted', async () => {
    const server = await startServer();
    const evil = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, origin: 'https://evil.example' },
      body: initializeBody,
    });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Forbidden: Origin not allowed' },
      id: null,
    });
    const local = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, origin: `http://localhost:${server.port}` },
      body: initializeBody,
    });
    expect(local.status).toBe(200);
  });

  it('configured hosts and origins replace the defaults; "any" disables the check', async () => {
    const server = await startServer({
      allowedHosts: ['mcp.example.com'],
      allowedOrigins: ['https://app.example.com'],
    });
    const post = (headers: Record<string, string>) =>
      rawRequest(server.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...headers },
        body: initializeBody,
      });
    expect((await post({ host: 'mcp.example.com' })).status).toBe(200);
    expect((await post({ host: `127.0.0.1:${server.port}` })).status).toBe(403);
    expect((await post({ host: 'mcp.example.com', origin: 'https://app.example.com' })).status).toBe(200);
    expect((await post({ host: 'mcp.example.com', origin: 'https://mcp.example.com' })).status).toBe(403);
    const open = await startServer({ allowedHosts: 'any' });
    const res = await rawRequest(open.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, host: 'anything.example' },
      body: initializeBody,
    });
    expect(res.status).toBe(200);
  });

  it('/healthz answers without Host checks; unknown paths are 404', async () => {
    const server = await startServer();
    const health = await rawRequest(`${server.url}/healthz`, { headers: { host: 'pod-ip.internal' } });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const missing = await rawRequest(`${server.url}/nope`);
    expect(missing.status).toBe(404);
  });

  it('a custom path moves the endpoint', async () => {
    const server = await startServer({ path: '/tools/fetch' });
    const { client } = await connect(server.mcpUrl);
    expect((await client.listTools()).tools).toHaveLength(1);
    expect(
      (await rawRequest(`${server.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, body: initializeBody }))
        .status,
    ).toBe(404);
  });
});

describe('mcp over Streamable HTTP (stateful option)', () => {
  it('issues a session id, keeps the session across calls and ends it on DELETE', async () => {
    let n = 0;
    const server = await startServer({ stateful: true, sessionIdGenerator: () => `session-${++n}` });
    const { client, transport } = await connect(server.mcpUrl);
    expect(transport.sessionId).toBe('session-1');
    const result = await client.callTool({ name: 'fetch', arguments: { url: `${site.url}/text` } });
    expect(text(result)).toContain('just some text');
    await transport.terminateSession();
    const after = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': 'session-1', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect(JSON.parse(after.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });
  });

  it('an unknown session id is 404 (-32001); a non-initialize POST without one is 400', async () => {
    const server = await startServer({ stateful: true });
    const unknown = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': 'made-up' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    const missing = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
  });

  it('idle sessions expire (moved clock)', async () => {
    let t = 1_000_000;
    const server = await startServer({ stateful: true, now: () => t, sessionIdleMs: 60_000 });
    const { client, transport } = await connect(server.mcpUrl);
    t += 30_000;
    await client.listTools();
    t += 61_000;
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: {
        ...MCP_HEADERS,
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('the session cap answers 503 to new sessions', async () => {
    const server = await startServer({ stateful: true, maxSessions: 1 });
    await connect(server.mcpUrl);
    const res = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: initializeBody,
    });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Too many sessions; try again later' },
      id: null,
    });
  });
});

describe('library options are validated', () => {
  it.each([
    [{ maxBytes: -1 }, 'Invalid fetch-server option maxBytes'],
    [{ proxy: 'socks5://p:1080' }, 'Invalid fetch-server option proxy: proxy must be an http:// URL'],
    [{ allowHosts: ['10.0.0.0/99'] }, 'allow-list entry "10.0.0.0/99" is not a valid CIDR range'],
    [{ path: 'mcp' }, 'Invalid fetch-server option path'],
  ])('%j is refused with a TypeError', (options, message) => {
    expect(() => createFetchServer(options as FetchServerOptions)).toThrow(TypeError);
    expect(() => createFetchServer(options as FetchServerOptions)).toThrow(message);
  });
});
