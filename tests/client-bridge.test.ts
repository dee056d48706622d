import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned } from '@mcp-gateway/testkit';
import { connect, createOAuthSession, MemoryTokenStore } from '@mcp-gateway/streamablehttp-client';
import {
  INIT_PARAMS,
  client,
  clientWithBrowser,
  everythingPath,
  messagesOf,
  rpc,
  signInLikeABrowser,
  startStack,
  tempHome,
  type Stack,
} from './client-stack.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await killAllSpawned();
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(killAllSpawned);

async function stack(opts: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const s = await startStack(opts);
  cleanups.push(() => s.close());
  return s;
}
function home() {
  const h = tempHome();
  cleanups.push(() => h.remove());
  return h;
}
const textOf = (m: Record<string, unknown>) =>
  (m.result as { content: Array<{ text: string }> }).content[0]!.text;

describe('bridge mode against our authorization server and bridge', () => {
  it('a real stdio parent: initialize triggers the --oauth2 sign-in (printed URL), then tools, progress, and DELETE on exit', async () => {
    const s = await stack();
    const h = home();
    // MCP 2025 sessions (DELETE on exit) are what this test is about: pinned, since the bridge also speaks 2026-07-28.
    const p = client(['--url', s.mcpUrl, '--oauth2', '--no-browser', '--protocol', '2025-11-25'], h.env);
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS }));
    const [, url] = await p.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr', timeoutMs: 30_000 });
    expect((await signInLikeABrowser(url!)).status).toBe(200);
    await p.waitForOutput(/"id":1[,}]/, { stream: 'stdout', timeoutMs: 30_000 });
    expect(messagesOf(p)[0]).toMatchObject({ id: 1, result: { serverInfo: { name: 'fixture-mcp-server' } } });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

    expect(
      textOf(
        await rpc(p, { id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 20, b: 22 } } }),
      ),
    ).toBe('42');
    const slow = await rpc(p, {
      id: 3,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 30, steps: 3 }, _meta: { progressToken: 'p1' } },
    });
    expect(textOf(slow)).toBe('slept 30ms');
    const progress = messagesOf(p).filter((m) => m.method === 'notifications/progress');
    expect(progress.map((m) => (m.params as { progress: number }).progress)).toEqual([1, 2, 3]);

    expect(s.bridgeStats().sessions).toBe(1);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    // The client ended its session with DELETE: the bridge closed it (and its child).
    expect(s.bridgeStats()).toMatchObject({ sessions: 0, sessionsClosed: 1 });
    // Only JSON-RPC on stdout: three answers and the progress notifications.
    expect(
      messagesOf(p)
        .filter((m) => 'id' in m && !('method' in m))
        .map((m) => m.id),
    ).toEqual([1, 2, 3]);
  });

  it('404 after a bridge restart: the client replays initialize on a new session and answers the request once', async () => {
    const s = await stack();
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);
    // A lost 2025 session (404) is what this test is about: pinned, since the bridge also speaks 2026-07-28.
    const p = client(['--url', s.mcpUrl, '--log-level', 'info', '--protocol', '2025-11-25'], h.env);
    await rpc(p, { id: 1, method: 'initialize', params: INIT_PARAMS });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const before = JSON.parse(
      textOf(await rpc(p, { id: 2, method: 'tools/call', params: { name: 'pid', arguments: {} } })),
    ) as unknown;

    await s.restartBridge();
    const after = await rpc(p, {
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'after restart' } },
    });
    expect(textOf(after)).toBe('after restart');
    const pid = await rpc(p, { id: 4, method: 'tools/call', params: { name: 'pid', arguments: {} } });
    expect(JSON.parse(textOf(pid))).not.toEqual(before);
    expect(p.stderr).toContain('session lost (HTTP 404); re-initializing');
    // The replayed initialize's answer stays inside the client; every host request has one answer.
    const answers = messagesOf(p)
      .filter((m) => !('method' in m))
      .map((m) => m.id);
    expect(answers).toEqual([1, 2, 3, 4]);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });

  it('@modelcontextprotocol/server-everything behind our bridge and AS: bridge mode and one-shot commands', async () => {
    const s = await stack({ server: { command: process.execPath, args: [everythingPath, 'stdio'] } });
    const h = home();
    expect((await clientWithBrowser(['login', '--url', s.mcpUrl, '--no-browser'], h.env)).code).toBe(0);

    const sum = client(['tools', 'call', 'get-sum', 'a=20', 'b=22', '--url', s.mcpUrl], h.env);
    expect((await sum.exited).code, sum.stderr).toBe(0);
    expect(sum.stdout).toContain('42');
    const list = client(['tools', 'list', '--url', s.mcpUrl, '--json'], h.env);
    expect((await list.exited).code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((t) => t.name)).toEqual(
      expect.arrayContaining(['echo', 'get-sum']),
    );

    const p = client(['--url', s.mcpUrl], h.env);
    const init = await rpc(p, { id: 'i', method: 'initialize', params: INIT_PARAMS });
    expect(init).toMatchObject({ result: { serverInfo: { name: expect.stringMatching(/everything/i) } } });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const echo = await rpc(p, {
      id: 'e',
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'via two bridges' } },
    });
    expect(textOf(echo)).toContain('via two bridges');
    const resources = await rpc(p, { id: 'r', method: 'resources/list', params: {} });
    expect((resources.result as { resources: unknown[] }).resources.length).toBeGreaterThan(0);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });

  it('library: connect() with OAuth (memory store) signs in through the GitHub stub and calls tools', async () => {
    const s = await stack();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store: new MemoryTokenStore(),
      openBrowser: false,
      onAuthorizationUrl: (url) => void signInLikeABrowser(url).catch(() => undefined),
    });
    const c = await connect(s.mcpUrl, { oauth: session });
    const r = await c.callTool({ name: 'echo', arguments: { text: 'library' } });
    expect((r as { content: Array<{ text: string }> }).content[0]!.text).toBe('library');
    expect((await session.status()).claims).toMatchObject({ sub: 'github:583231', login: 'octocat' });
    await c.close();
  });
});
