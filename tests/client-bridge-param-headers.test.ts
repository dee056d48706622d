/**
 * SEP-2243 `x-mcp-header` between our own client and our own bridge (MCP 2026-07-28, no session):
 * mcp-streamablehttp-client (library and CLI) calls the testkit fixture's `route` tool through
 * mcp-streamablehttp-proxy over HTTP (a real child). The tool mirrors `region`, `shard`, `dry` and
 * the nested `target.zone`; the bridge refuses a call whose `Mcp-Param-*` headers do not mirror the
 * body (400, -32020), so a served call is the proof that both read the declarations alike.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EraCache, openConnection } from '@mcp-gateway/streamablehttp-client';
import { serveNode, type ServedBridge } from '@mcp-gateway/streamablehttp-proxy';
import { fixtureMcpServerCommand, killAllSpawned } from '@mcp-gateway/testkit';
import { client, tempHome } from './client-stack.js';

const bridges: ServedBridge[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await killAllSpawned();
  await Promise.all(bridges.splice(0).map((b) => b.close()));
  for (const c of cleanups.splice(0)) c();
});
afterAll(killAllSpawned);

async function bridge(): Promise<string> {
  const served = await serveNode({ ...fixtureMcpServerCommand(), logLevel: 'silent' }, { port: 0 });
  bridges.push(served);
  return `${served.url}/mcp`;
}

const echoed = (result: Record<string, unknown>) =>
  JSON.parse((result as { content: Array<{ text: string }> }).content[0]!.text) as unknown;

describe('mcp-streamablehttp-client → mcp-streamablehttp-proxy: Mcp-Param-* headers', () => {
  it('library: a nested x-mcp-header argument (target.zone) is mirrored, and the bridge serves the call', async () => {
    const url = await bridge();
    const c = await openConnection(url, { eraCache: new EraCache() });
    expect(c.era).toBe('modern');
    // The fixture's declarations are valid: the client keeps the tool.
    expect((await c.listTools()).tools.map((t) => t.name)).toContain('route');
    const nested = { region: 'eu', target: { zone: 'z' } };
    expect(echoed(await c.callTool({ name: 'route', arguments: nested }))).toEqual(nested);
    // Every kind the tool declares, with values only Base64 can carry.
    const all = { region: 'Zürich', shard: 42, dry: false, target: { zone: ' z ' }, query: 'q' };
    expect(echoed(await c.callTool({ name: 'route', arguments: all }))).toEqual(all);
    await c.close();
  });

  it('cli: tools call route with a nested argument exits 0 with the echoed arguments', async () => {
    const url = await bridge();
    const home = tempHome();
    cleanups.push(home.remove);
    const args = { region: 'eu', target: { zone: 'z' } };
    const p = client(['tools', 'call', 'route', '--args', JSON.stringify(args), '--url', url], home.env);
    const { code } = await p.exited;
    expect(p.stderr).not.toContain('-32020');
    expect(code).toBe(0);
    expect(p.stdout).toContain('"zone":"z"');
  });
});
