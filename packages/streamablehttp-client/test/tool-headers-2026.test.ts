/**
 * What the client remembers of a server's `x-mcp-header` declarations (SEP-2243,
 * MCP 2026-07-28 basic/transports/streamable-http "Client Behavior"): a
 * HeaderMismatch (-32020) makes it read `tools/list` again and retry once; a
 * tools list change makes it forget; an unknown tool does not make it read the
 * whole list on every call.
 */
import { describe, expect, it } from 'vitest';
import { listen, waitFor } from '@mcp-gateway/testkit';
import { EraCache, openConnection } from '../src/index.js';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';
import { modernServersPerTest } from './helpers/modern-server.js';

const { closers, modern } = modernServersPerTest();

const textOf = (r: Record<string, unknown>) => (r.content as Array<{ text: string }>)[0]!.text;

describe('HeaderMismatch (-32020) on tools/call', () => {
  it('the client reads tools/list again and retries once with the headers the changed schema asks for', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    await c.listTools();
    s.declareNoteHeader(); // changed without a notification
    const result = await c.callTool({ name: 'echo', arguments: { region: 'eu', note: 'hi' } });
    expect(JSON.parse(textOf(result))).toEqual({
      arguments: { region: 'eu', note: 'hi' },
      headers: { 'mcp-param-region': 'eu', 'mcp-param-note': 'hi' },
    });
    expect(s.seen.map((r) => r.method)).toEqual([
      'server/discover',
      'tools/list',
      'tools/call', // refused: -32020
      'tools/list',
      'tools/call',
    ]);
  });

  it('retries only once: a second -32020 is the answer', async () => {
    const l = await listen(async (req) => {
      const m = (await req.json()) as { id: number; method: string };
      if (m.method === 'server/discover')
        return Response.json({
          jsonrpc: '2.0',
          id: m.id,
          result: { supportedVersions: ['2026-07-28'], capabilities: { tools: {} } },
        });
      if (m.method === 'tools/list')
        return Response.json({
          jsonrpc: '2.0',
          id: m.id,
          result: { tools: [{ name: 't', inputSchema: { type: 'object' } }] },
        });
      return Response.json(
        { jsonrpc: '2.0', id: m.id, error: { code: -32020, message: 'Header mismatch' } },
        { status: 400 },
      );
    });
    closers.push(() => l.close());
    const methods: string[] = [];
    const c = await openConnection(l.url, {
      eraCache: new EraCache(),
      fetch: (input, init) => {
        methods.push((JSON.parse(init?.body as string) as { method: string }).method);
        return fetch(input, init);
      },
    });
    await expect(c.callTool({ name: 't' })).rejects.toMatchObject({ code: 'jsonrpc_-32020' });
    expect(methods).toEqual(['server/discover', 'tools/list', 'tools/call', 'tools/list', 'tools/call']);
  });
});

describe('remembered declarations', () => {
  it('bridge: notifications/tools/list_changed makes the bridge forget them; the next call reads tools/list first and sends the new header at once', async () => {
    const s = await modern();
    const b = runBridge({ url: new URL(s.mcpUrl), eraCache: new EraCache() });
    closers.push(() => b.stop());
    await b.request(0, 'initialize', HOST_INIT);
    b.send({ method: 'notifications/initialized' });
    await waitFor(() => s.seen.find((r) => r.method === 'subscriptions/listen'), {
      timeoutMs: 10_000,
      message: 'no subscriptions/listen',
    });
    expect(
      (await b.request(1, 'tools/call', { name: 'echo', arguments: { note: 'a' } })).result,
    ).toBeDefined();
    s.declareNoteHeader();
    await waitFor(
      () => {
        s.toolsChanged();
        return b.messages().find((m) => m.method === 'notifications/tools/list_changed');
      },
      { timeoutMs: 10_000, message: 'no list_changed at the host' },
    );
    const before = s.seen.length;
    const answer = await b.request(2, 'tools/call', { name: 'echo', arguments: { note: 'b' } });
    expect(JSON.parse(textOf(answer.result as Record<string, unknown>)).headers).toEqual({
      'mcp-param-note': 'b',
    });
    expect(s.seen.slice(before).map((r) => r.method)).toEqual(['tools/list', 'tools/call']);
  });

  it('calls of a tool tools/list does not name read the list once, not on every call', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    for (let i = 0; i < 3; i++)
      await expect(c.callTool({ name: 'nope', arguments: {} })).rejects.toMatchObject({
        code: 'jsonrpc_-32602',
      });
    expect(s.seen.map((r) => r.method)).toEqual([
      'server/discover',
      'tools/list',
      'tools/call',
      'tools/call',
      'tools/call',
    ]);
  });
});
