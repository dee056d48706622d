/**
 * Errors a 2025 host gets from a 2026-07-28 server through the bridge: its
 * own revision's code where 2025 defines one (resource not found: -32002),
 * and errors the client made itself marked as local (MCP 2026-07-28
 * basic/index "Error Codes").
 */
import { describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { EraCache } from '../src/index.js';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';
import { modernServersPerTest } from './helpers/modern-server.js';

const { closers, modern } = modernServersPerTest();

function bridge(url: string, requestTimeoutMs?: number) {
  const b = runBridge({
    url: new URL(url),
    eraCache: new EraCache(),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  });
  closers.push(() => b.stop());
  return b;
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'modern-host', version: '1' },
};

describe('bridge: error codes for a 2025 host', () => {
  it('resources/read of a missing resource: -32602 from the server is -32002 for a 2025 host (message and data kept), -32602 for a 2026 host', async () => {
    const s = await modern();
    const b = bridge(s.mcpUrl);
    await b.request(0, 'initialize', HOST_INIT);
    const found = await b.request(1, 'resources/read', { uri: 'file:///readme' });
    expect(found.result).toMatchObject({ contents: [{ text: 'hi' }] });
    const missing = await b.request(2, 'resources/read', { uri: 'file:///nope' });
    expect(missing.error).toEqual({
      code: -32002,
      message: 'Resource not found',
      data: { uri: 'file:///nope' },
    });
    // Other invalid params stay what they are.
    const invalid = await b.request(3, 'resources/read', { uri: 'https://x.test/' });
    expect(invalid.error).toMatchObject({ code: -32602 });
    const modernHost = await b.request(4, 'resources/read', { uri: 'file:///nope', _meta: ENVELOPE });
    expect(modernHost.error).toMatchObject({ code: -32602, message: 'Resource not found' });
  });
});

describe('local errors are marked as such', () => {
  it('a call to a tool excluded for invalid x-mcp-header declarations: -32602 with data.source naming this client', async () => {
    const s = await modern();
    const b = bridge(s.mcpUrl);
    await b.request(0, 'initialize', HOST_INIT);
    const answer = await b.request(1, 'tools/call', { name: 'bad_headers', arguments: { data: {} } });
    expect(answer.error).toMatchObject({
      code: -32602,
      data: { source: 'mcp-streamablehttp-client', reason: 'excluded_tool', tool: 'bad_headers' },
    });
    expect(s.seen.filter((r) => r.method === 'tools/call')).toEqual([]);
  });

  it('a result of unknown resultType: -32603 with data.source naming this client', async () => {
    const l = await listen(async (req) => {
      const m = (await req.json()) as { id: number; method: string };
      const result =
        m.method === 'server/discover'
          ? { supportedVersions: ['2026-07-28'], capabilities: { tools: {} } }
          : m.method === 'tools/list'
            ? { tools: [{ name: 'later', inputSchema: { type: 'object' } }] }
            : { resultType: 'task', content: [] };
      return Response.json({ jsonrpc: '2.0', id: m.id, result });
    });
    closers.push(() => l.close());
    const b = bridge(l.url);
    await b.request(0, 'initialize', HOST_INIT);
    const answer = await b.request(1, 'tools/call', { name: 'later', arguments: {} });
    expect(answer.error).toMatchObject({
      code: -32603,
      data: { source: 'mcp-streamablehttp-client', reason: 'unknown_result_type', resultType: 'task' },
    });
  });

  it("the bridge's own failure (a request deadline, a network failure): -32000 for a 2025 host as before; -32603 marked as local for a 2026 host", async () => {
    const l = await listen(async (req) => {
      const m = (await req.json()) as { id: number; method: string };
      const discovered = { supportedVersions: ['2026-07-28'], capabilities: { tools: {} } };
      if (m.method === 'server/discover')
        return Response.json({ jsonrpc: '2.0', id: m.id, result: discovered });
      // Everything else: never answered (until the bridge gives up).
      await new Promise((r) => req.signal.addEventListener('abort', r));
      return new Response(null, { status: 504 });
    });
    closers.push(() => l.close());
    const b = bridge(l.url, 1000);
    await b.request(0, 'initialize', HOST_INIT);
    const legacyHost = await b.request(2, 'tools/list');
    expect(legacyHost.error).toMatchObject({ code: -32000, data: { kind: 'network', code: 'timeout' } });
    const modernHost = await b.request(3, 'tools/list', { _meta: ENVELOPE });
    expect(modernHost.error).toEqual({
      code: -32603,
      message: expect.stringContaining('(request deadline; see --request-timeout)'),
      data: { source: 'mcp-streamablehttp-client', reason: 'timeout', kind: 'network' },
    });
    await l.close();
    const unreachable = await b.request(4, 'tools/list', { _meta: ENVELOPE });
    expect(unreachable.error).toMatchObject({
      code: -32603,
      data: { source: 'mcp-streamablehttp-client', reason: 'unreachable', kind: 'network' },
    });
  });
});
