import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { FetchServiceConfig, StdioServiceConfig } from '../src/config/schema.js';
import { createLogger } from '../src/ops/logger.js';
import type { ServiceBackend } from '../src/services/backend.js';
import { fetchBackend } from '../src/services/fetch.js';
import { childEnv, stdioBackend } from '../src/services/stdio.js';

const log = createLogger('silent');
const backends: ServiceBackend[] = [];
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

const { config } = resolveConfig({}, { env: {} });
const demo = config.services.demo as StdioServiceConfig;
const alice = { sub: 'alice', name: 'Alice', scopes: [] };
const bob = { sub: 'bob', scopes: [] };

const rpc = (body: unknown, headers: Record<string, string> = {}) =>
  new Request('http://gateway.internal/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify(body),
  });

/** The JSON-RPC message in a JSON or single-event SSE answer. */
async function message(
  res: Response,
): Promise<{ result?: { content?: { text: string }[] }; error?: unknown }> {
  const text = await res.text();
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim())
      .filter(Boolean)
      .pop();
    return JSON.parse(data!) as never;
  }
  return JSON.parse(text) as never;
}

const init = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('stdio services', () => {
  it('each child gets MCP_USER_ID/MCP_USER_NAME of the user who opened the session', async () => {
    const b = stdioBackend('demo', demo, log);
    backends.push(b);
    const opened = await b.handle(rpc(init), alice);
    expect(opened.status).toBe(200);
    const sid = opened.headers.get('mcp-session-id')!;
    await opened.text();
    await (
      await b.handle(
        rpc({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid }),
        alice,
      )
    ).text();
    const res = await b.handle(
      rpc(
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
        { 'mcp-session-id': sid },
      ),
      alice,
    );
    const who = JSON.parse((await message(res)).result!.content![0]!.text) as { id: string; name: string };
    expect([who.id, who.name]).toEqual(['alice', 'Alice']);
    expect(b.sessions!()).toBe(1);
  });

  it("a user's session cannot be used by another user (404 as for an unknown session)", async () => {
    const b = stdioBackend('demo', demo, log);
    backends.push(b);
    const opened = await b.handle(rpc(init), alice);
    const sid = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const stolen = await b.handle(
      rpc({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': sid }),
      bob,
    );
    expect(stolen.status).toBe(404);
    await stolen.text();
  });

  it('a client cannot choose its identity by sending the internal headers itself', async () => {
    const b = stdioBackend('demo', demo, log);
    backends.push(b);
    const opened = await b.handle(rpc(init, { 'x-mcp-gateway-user-id': 'mallory' }), bob);
    const sid = opened.headers.get('mcp-session-id')!;
    await opened.text();
    const res = await b.handle(
      rpc(
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
        { 'mcp-session-id': sid },
      ),
      bob,
    );
    expect(JSON.parse((await message(res)).result!.content![0]!.text)).toMatchObject({ id: 'bob' });
  });

  it('children see only the allow-listed environment', () => {
    const env = childEnv(
      { ...demo, passEnv: ['GITHUB_TOKEN'], env: { FIXED: '1' } },
      { PATH: '/bin', GITHUB_TOKEN: 'g', AWS_SECRET_ACCESS_KEY: 'no', HOME: '/h' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', GITHUB_TOKEN: 'g', FIXED: '1' });
  });

  it('readiness reports whether a child can be spawned', async () => {
    const ok = stdioBackend('demo', demo, log);
    const broken = stdioBackend('x', { ...demo, command: '/nonexistent/binary' }, log);
    backends.push(ok, broken);
    expect(await ok.ready()).toBe(true);
    expect(await broken.ready()).toBe(false);
  });
});

describe('fetch service', () => {
  it('answers tools/list in-process with the fetch tool', async () => {
    const b = fetchBackend('fetch', config.services.fetch as FetchServiceConfig, log);
    backends.push(b);
    const res = await b.handle(rpc({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), alice);
    expect(res.status).toBe(200);
    const msg = (await message(res)) as { result: { tools: { name: string }[] } };
    expect(msg.result.tools.map((t) => t.name)).toContain('fetch');
    expect(await b.ready()).toBe(true);
  });
});
