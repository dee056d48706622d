/**
 * The client against our own dual-era server, mcp-fetch-server (both built
 * binaries, real child processes): in `auto` the client finds MCP 2026-07-28
 * with `server/discover` and speaks it, and a 2025 stdio host uses the server
 * through the bridge; pinned to 2025 the same server is used with a session.
 */
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EraCache, openConnection } from '@mcp-gateway/streamablehttp-client';
import { killAllSpawned, spawnCli, type SpawnedCli } from '@mcp-gateway/testkit';
import { clientBin, repoRoot } from './client-stack.js';

const fetchServerBin = path.join(repoRoot, 'packages', 'fetch-server', 'bin', 'mcp-fetch-server.js');

afterEach(killAllSpawned);
afterAll(killAllSpawned);

async function fetchServer(): Promise<string> {
  const p = spawnCli(process.execPath, [fetchServerBin, '--port', '0']);
  const [, url] = await p.waitForOutput(/"msg":"listening","url":"([^"]+)"/, {
    stream: 'both',
    timeoutMs: 30_000,
  });
  return url!;
}

/** Sends one request line to a spawned bridge and resolves with its answer. */
async function rpc(p: SpawnedCli, id: number, method: string, params: Record<string, unknown> = {}) {
  p.writeLine(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  await p.waitForOutput(new RegExp(`"id":${id}[,}]`), { stream: 'stdout', timeoutMs: 20_000 });
  const line = p.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((m) => m.id === id && !('method' in m));
  return line!;
}

async function bridgeSession(url: string, extra: string[]) {
  const p = spawnCli(process.execPath, [clientBin, '--url', url, '--log-level', 'info', ...extra]);
  const init = await rpc(p, 1, 'initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'e2e-host', version: '1' },
  });
  p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  const tools = await rpc(p, 2, 'tools/list');
  p.child.stdin.end();
  expect((await p.exited).code).toBe(0);
  return { init, tools, stderr: p.stderr };
}

describe('mcp-streamablehttp-client against mcp-fetch-server (dual-era)', () => {
  it('library: openConnection finds 2026-07-28 with server/discover and lists the fetch tool', async () => {
    const url = await fetchServer();
    const c = await openConnection(url, { eraCache: new EraCache() });
    expect(c.era).toBe('modern');
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('fetch');
    await c.close();
  });

  it('bridge: a 2025 host uses the server over 2026-07-28 (initialize answered from server/discover), and over 2025 when pinned', async () => {
    const url = await fetchServer();
    const modern = await bridgeSession(url, []);
    expect(modern.stderr).toContain('the server speaks MCP 2026-07-28');
    expect(modern.init.result).toMatchObject({
      protocolVersion: '2025-11-25',
      serverInfo: { name: 'mcp-gateway-fetch' },
      capabilities: { tools: {} },
    });
    const names = (r: Record<string, unknown>) =>
      (r.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(names(modern.tools)).toContain('fetch');

    const legacy = await bridgeSession(url, ['--protocol', '2025-11-25']);
    expect(legacy.stderr).not.toContain('2026-07-28');
    expect(legacy.init.result).toMatchObject({ serverInfo: { name: 'mcp-gateway-fetch' } });
    expect(names(legacy.tools)).toEqual(names(modern.tools));
  });
});
