import { eventStreamResponse, listen } from '@mcp-gateway/testkit';
import { describe, expect, it } from 'vitest';
import { EraCache, openConnection, ServerError, type FetchLike } from '../src/index.js';
import { postRequest, type RpcNotification } from '../src/protocol/wire.js';
import { cli } from './helpers/cli.js';
import { startMcpServer } from './helpers/mcp-server.js';
import { modernServersPerTest } from './helpers/modern-server.js';

const { closers, modern } = modernServersPerTest();

/** The real fetch, counting the JSON-RPC methods it POSTs (to see probes). */
function countingFetch() {
  const methods: string[] = [];
  const f: FetchLike = async (input, init) => {
    if (init?.method === 'POST' && typeof init.body === 'string') {
      const m = (JSON.parse(init.body) as { method?: string }).method;
      if (m) methods.push(m);
    }
    return fetch(input, init);
  };
  return { fetch: f, methods };
}

const textOf = (r: Record<string, unknown>) => (r.content as Array<{ text: string }>)[0]!.text;

describe('MCP 2026-07-28 client: era probe, request envelope, headers', () => {
  it('sep-2575: a 2026 server is probed with server/discover, then every request is a self-contained POST with the _meta envelope and matching headers', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, {
      eraCache: new EraCache(),
      clientInfo: { name: 't', version: '9' },
    });
    expect(c.era).toBe('modern');
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    await c.close();

    expect(s.seen.map((r) => r.method)).toEqual(['server/discover', 'tools/list']);
    for (const r of s.seen) {
      expect(r.headers['mcp-protocol-version']).toBe('2026-07-28');
      expect(r.headers['mcp-method']).toBe(r.method);
      expect(r.headers['mcp-session-id']).toBeUndefined();
      expect(r.params._meta).toEqual({
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 't', version: '9' },
      });
    }
  });

  it('sep-2243: x-mcp-header arguments become Mcp-Param-* headers (non-ASCII as =?base64?…?=), Mcp-Name names the tool, unmarked arguments stay out', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    const result = await c.callTool({ name: 'echo', arguments: { region: 'Zürich', count: 3, note: 'n' } });
    const seen = JSON.parse(textOf(result)) as { headers: Record<string, string> };
    expect(seen.headers).toEqual({
      'mcp-param-region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=`,
      'mcp-param-count': '3',
    });
    const call = s.seen.find((r) => r.method === 'tools/call')!;
    expect(call.headers['mcp-name']).toBe('echo');
    // The declarations came from tools/list, read once before the first call.
    expect(s.seen.map((r) => r.method)).toEqual(['server/discover', 'tools/list', 'tools/call']);
  });

  it('sep-2243: a tool with an invalid x-mcp-header declaration is left out of tools/list and never called', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name)).not.toContain('bad_headers');
    const err = await c.callTool({ name: 'bad_headers', arguments: { data: {} } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('jsonrpc_-32602');
    expect(s.seen.filter((r) => r.method === 'tools/call')).toEqual([]);
  });

  it('era cache: a second connection to the same 2026 server skips the probe', async () => {
    const s = await modern();
    const cache = new EraCache();
    const counted = countingFetch();
    await (await openConnection(s.mcpUrl, { eraCache: cache, fetch: counted.fetch })).listTools();
    await (await openConnection(s.mcpUrl, { eraCache: cache, fetch: counted.fetch })).listTools();
    expect(counted.methods).toEqual(['server/discover', 'tools/list', 'tools/list']);
  });

  it('fallback: a 2025-only server (MCP SDK 1.x) gets initialize and a session, and the cache remembers it is legacy', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const cache = new EraCache();
    const counted = countingFetch();
    const first = await openConnection(s.mcpUrl, { eraCache: cache, fetch: counted.fetch });
    expect(first.era).toBe('legacy');
    expect((await first.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content).toEqual([
      { type: 'text', text: '5' },
    ]);
    await first.close();
    const second = await openConnection(s.mcpUrl, { eraCache: cache, fetch: counted.fetch });
    await second.listTools();
    await second.close();
    expect(counted.methods.filter((m) => m === 'server/discover')).toHaveLength(1);
    expect(counted.methods.filter((m) => m === 'initialize')).toHaveLength(2);
    expect(cache.get(new URL(s.mcpUrl))).toBe('legacy');
  });

  it('sep-2322: a one-shot call the server answers with input_required fails as a typed error (no host to ask)', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    // Without elicitation declared, the server asks for the capability (-32021) instead.
    const err = await c.callTool({ name: 'confirm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('jsonrpc_-32021');
  });
});

describe('result types (2026-07-28 basic "ResultType")', () => {
  it('a result whose resultType this client does not know is an error, not a result; none at all reads as complete', async () => {
    const l = await listen(async (req) => {
      const m = (await req.json()) as { id: number; method: string; params: { name?: string } };
      const result: Record<string, unknown> =
        m.method === 'server/discover'
          ? {
              supportedVersions: ['2026-07-28'],
              capabilities: { tools: {} },
              serverInfo: { name: 'result-types', version: '1' },
            }
          : m.method === 'tools/list'
            ? {
                tools: [
                  { name: 'later', inputSchema: { type: 'object' } },
                  { name: 'old', inputSchema: { type: 'object' } },
                ],
              }
            : m.params.name === 'later'
              ? { resultType: 'task', content: [{ type: 'text', text: 'not a result' }] }
              : { content: [{ type: 'text', text: 'no resultType' }] };
      return Response.json({ jsonrpc: '2.0', id: m.id, result });
    });
    closers.push(() => l.close());
    const c = await openConnection(l.url, { eraCache: new EraCache() });
    const err = await c.callTool({ name: 'later' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('jsonrpc_-32603');
    expect((err as ServerError).message).toContain('unknown resultType "task"');
    expect(textOf(await c.callTool({ name: 'old' }))).toBe('no resultType');
  });
});

describe('answer streams (text/event-stream)', () => {
  it('an answer stream with bare CR line ends, a CRLF split across writes and multi-line data is read', async () => {
    const writes = [
      ': hello\r',
      'event: message\rdata: {"jsonrpc":"2.0","method":"notifications/progress",\rdata: "params":{"progress":1}}\r\r',
      'data: {"jsonrpc":"2.0","id":5,\r\ndata:"result":{"ok":true}}\r',
      '\n\r\n',
    ];
    const server = await listen(() => eventStreamResponse(writes));
    closers.push(() => server.close());
    const notes: RpcNotification[] = [];
    const answer = await postRequest(new URL(`${server.url}/mcp`), fetch, {
      id: 5,
      method: 'tools/call',
      params: { name: 'x' },
      version: '2026-07-28',
      onNotification: (n) => notes.push(n),
    });
    expect(answer).toEqual({ id: 5, result: { ok: true }, status: 200 });
    expect(notes).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } }]);
  });
});

describe('CLI against a 2026-07-28 server', () => {
  it('cli: tools call speaks 2026-07-28 (Mcp-Param-* headers); --protocol 2025-11-25 forces initialize, which a 2026-only server refuses', async () => {
    const s = await modern();
    const ok = await cli(['tools', 'call', 'echo', 'region=eu', 'count=2', '--url', s.mcpUrl]);
    // The server's tool with an invalid declaration is excluded, with a warning saying why.
    expect(ok.stderr).toContain('excluding a tool with invalid x-mcp-header declarations');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      arguments: { region: 'eu', count: 2 },
      headers: { 'mcp-param-region': 'eu', 'mcp-param-count': '2' },
    });

    const legacy = await cli(['tools', 'list', '--url', s.mcpUrl, '--protocol', '2025-11-25']);
    expect(legacy.code).toBe(1);
    expect(s.seen.filter((r) => r.method === 'initialize')).toEqual([]);

    const bad = await cli(['tools', 'list', '--url', s.mcpUrl, '--protocol', '2027-01-01']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--protocol must be one of auto, 2026-07-28, 2025-11-25');
  });
});
