/**
 * The era decision (MCP 2026-07-28 basic/versioning "Backward Compatibility",
 * basic/transports/streamable-http "Backward Compatibility"): a 2026 request
 * answered 400, 404 or 405 without a recognised modern error body means a 2025
 * server; a server failure says nothing about the era and must not be
 * remembered; a remembered era is forgotten when the server later answers as
 * only the other era does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { EraCache, openConnection, ServerError } from '../src/index.js';
import { runBridge, HOST_INIT } from './helpers/bridge-run.js';
import { startMcpServer } from './helpers/mcp-server.js';
import { startModernServer } from './helpers/modern-server.js';
import { startScriptedServer, type Behaviour } from './helpers/scripted-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const rpcError = (id: unknown, status: number, code: number, message: string, data?: unknown) =>
  Response.json({ jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } }, { status });

/** Answers to `server/discover` that tell nothing about the server's era. */
const FAILURES: Array<{ name: string; reply: (id: unknown) => Response }> = [
  { name: 'HTTP 503 with plain text', reply: () => new Response('restarting', { status: 503 }) },
  { name: 'HTTP 500 with -32603', reply: (id) => rpcError(id, 500, -32603, 'Internal error') },
  { name: 'HTTP 200 with -32603', reply: (id) => rpcError(id, 200, -32603, 'Internal error') },
  { name: 'HTTP 200 with plain text', reply: () => new Response('hello', { status: 200 }) },
  { name: 'HTTP 202 without a body', reply: () => new Response(null, { status: 202 }) },
  { name: 'HTTP 429', reply: () => new Response('slow down', { status: 429 }) },
  {
    name: 'an SSE stream that ends before the answer',
    reply: () =>
      new Response(': hello\n\n', { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  },
];

/** A 2026 server whose `server/discover` fails as `failing.reply` says while `failing.on`. */
async function flakyModern(reply: (id: unknown) => Response) {
  const failing = { on: true };
  const s = await startScriptedServer('modern', (m): Behaviour =>
    m === 'server/discover' && failing.on ? { reply } : 'answer',
  );
  closers.push(() => s.close());
  return { s, failing };
}

describe('era probe: a server failure is not a 2025 server', () => {
  for (const f of FAILURES) {
    it(`openConnection: server/discover answered with ${f.name} fails the call, remembers nothing; the next call finds 2026`, async () => {
      const { s, failing } = await flakyModern(f.reply);
      const cache = new EraCache();
      const err = await openConnection(s.mcpUrl, { eraCache: cache }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServerError);
      expect(cache.get(new URL(s.mcpUrl))).toBeUndefined();
      expect(s.received).toEqual(['server/discover']);
      failing.on = false;
      const c = await openConnection(s.mcpUrl, { eraCache: cache });
      expect(c.era).toBe('modern');
      expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['slow']);
      expect(cache.get(new URL(s.mcpUrl))).toBe('modern');
      expect(s.received).not.toContain('initialize');
    });
  }

  it('only HTTP 400, 404 or 405 without a JSON-RPC body mean a 2025 server (initialize follows); 409, 429 or 503 fail the call', async () => {
    for (const status of [400, 404, 405, 409, 429, 503]) {
      const s = await startScriptedServer('legacy', (m) =>
        m === 'server/discover' ? { reply: () => new Response('no', { status }) } : 'answer',
      );
      closers.push(() => s.close());
      const cache = new EraCache();
      const opened = await openConnection(s.mcpUrl, { eraCache: cache }).catch((e: unknown) => e);
      if ([400, 404, 405].includes(status)) {
        expect((opened as { era?: string }).era, `HTTP ${status}`).toBe('legacy');
        await (opened as { close(): Promise<void> }).close();
        expect(cache.get(new URL(s.mcpUrl))).toBe('legacy');
        expect(s.received.slice(0, 2)).toEqual(['server/discover', 'initialize']);
      } else {
        expect(opened, `HTTP ${status}`).toBeInstanceOf(ServerError);
        expect((opened as ServerError).code).toBe(`http_${status}`);
        expect(cache.get(new URL(s.mcpUrl))).toBeUndefined();
        expect(s.received).toEqual(['server/discover']);
      }
    }
  });

  it('-32022 listing only a 2025 revision this client speaks: initialize with it; listing none it speaks: a clear error, not a fallback to 2025', async () => {
    const unsupported = (supported: string[]) =>
      startScriptedServer('legacy', (m) =>
        m === 'server/discover'
          ? {
              reply: (id) =>
                rpcError(id, 400, -32022, 'Unsupported protocol version', {
                  supported,
                  requested: '2026-07-28',
                }),
            }
          : 'answer',
      );
    const older = await unsupported(['2025-11-25']);
    closers.push(() => older.close());
    const c = await openConnection(older.mcpUrl, { eraCache: new EraCache() });
    expect(c.era).toBe('legacy');
    await c.close();

    const future = await unsupported(['2099-01-01']);
    closers.push(() => future.close());
    const cache = new EraCache();
    const err = await openConnection(future.mcpUrl, { eraCache: cache }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('unsupported_protocol_version');
    expect((err as ServerError).message).toContain('serves MCP 2099-01-01');
    expect(future.received).toEqual(['server/discover']);
    expect(cache.get(new URL(future.mcpUrl))).toBeUndefined();
  });

  it('bridge: a startup probe that fails (503) does not make it a 2025 bridge; the host initialize probes again and is answered from server/discover', async () => {
    const { s, failing } = await flakyModern(() => new Response('restarting', { status: 503 }));
    const cache = new EraCache();
    const b = runBridge({ url: new URL(s.mcpUrl), eraCache: cache });
    closers.push(() => b.stop());
    await s.arrived('server/discover');
    // Still failing at the host's first request: it gets the failure, nothing is remembered.
    const first = await b.request(0, 'initialize', HOST_INIT);
    expect(first.error).toMatchObject({ code: -32000, data: { code: 'http_503', status: 503 } });
    expect(cache.get(new URL(s.mcpUrl))).toBeUndefined();
    failing.on = false;
    const init = await b.request(1, 'initialize', HOST_INIT);
    expect(init.result).toMatchObject({ serverInfo: { name: 'scripted-2026' } });
    const list = await b.request(2, 'tools/list');
    expect(list.result).toMatchObject({ tools: [{ name: 'slow' }] });
    expect(s.received).toEqual(['server/discover', 'server/discover', 'server/discover', 'tools/list']);
    expect(cache.get(new URL(s.mcpUrl))).toBe('modern');
  });
});

describe('era cache: re-probing when the remembered era later fails', () => {
  it('remembered 2025, but initialize is refused with a 2026 error (-32020): probed again at once, and 2026 it is', async () => {
    const s = await startModernServer();
    closers.push(() => s.close());
    const cache = new EraCache();
    cache.set(new URL(s.mcpUrl), 'legacy');
    const c = await openConnection(s.mcpUrl, { eraCache: cache });
    expect(c.era).toBe('modern');
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(cache.get(new URL(s.mcpUrl))).toBe('modern');
  });

  it('remembered 2026, but a request is refused as a 2025 server does (400, -32000): forgotten, the next connection probes and gets 2025', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const cache = new EraCache();
    const url = new URL(s.mcpUrl);
    cache.set(url, 'modern');
    const stale = await openConnection(s.mcpUrl, { eraCache: cache });
    expect(stale.era).toBe('modern');
    await expect(stale.listTools()).rejects.toBeInstanceOf(ServerError);
    expect(cache.get(url)).toBeUndefined();
    const c = await openConnection(s.mcpUrl, { eraCache: cache });
    expect(c.era).toBe('legacy');
    expect((await c.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).content).toEqual([
      { type: 'text', text: '3' },
    ]);
    await c.close();
    expect(cache.get(url)).toBe('legacy');
  });

  it('bridge: remembered 2025, the host initialize refused with a 2026 error: the remembered era is forgotten', async () => {
    const s = await startModernServer();
    closers.push(() => s.close());
    const cache = new EraCache();
    const url = new URL(s.mcpUrl);
    cache.set(url, 'legacy');
    const b = runBridge({ url, eraCache: cache });
    closers.push(() => b.stop());
    const init = await b.request(0, 'initialize', HOST_INIT);
    expect(init.error).toMatchObject({ code: -32000 });
    await waitFor(() => cache.get(url) === undefined, { timeoutMs: 5000, message: 'era still remembered' });
  });
});
