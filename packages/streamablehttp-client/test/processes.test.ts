import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned } from '@mcp-gateway/testkit';
import { createOAuthSession, FileTokenStore } from '../src/index.js';
import { spawnClient, messagesOf, rpc } from './helpers/cli.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';
import { autoBrowser, followAuthorizationUrl } from './helpers/flow.js';
import { startCuttingServer } from './helpers/cutting-server.js';
import { startHangingServer } from './helpers/hanging-server.js';
import { startScriptedServer } from './helpers/scripted-server.js';

const closers: Array<() => Promise<unknown>> = [];
const homes: string[] = [];
afterEach(async () => {
  await killAllSpawned();
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  await Promise.all(homes.map((h) => fs.rm(h, { recursive: true, force: true })));
});
async function tempHome() {
  const h = await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-proc-'));
  homes.push(h);
  return h;
}

const INIT = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'stdio-parent', version: '1' },
};

describe('real processes', () => {
  it('bridge mode driven by a real stdio parent: --oauth2 login via the printed URL, then JSON-RPC both ways, DELETE on exit', async () => {
    const s = await startSdkOAuthServer({ requiredScopes: ['mcp:tools'] });
    closers.push(() => s.close());
    const home = await tempHome();
    const p = spawnClient(['--url', s.mcpUrl, '--oauth2', '--no-browser', '--log-level', 'info'], {
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT }));
    const [, url] = await p.waitForOutput(/To sign in, open: (\S+)/, { stream: 'stderr' });
    const page = await followAuthorizationUrl(url!);
    expect(page.status).toBe(200);
    await p.waitForOutput(/"id":1[,}]/, { stream: 'stdout' });
    const init = messagesOf(p).find((m) => m.id === 1)!;
    expect(init).toMatchObject({
      result: { protocolVersion: '2025-06-18', serverInfo: { name: 'test-http-server' } },
    });
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const call = await rpc(p, { id: 'x', method: 'tools/call', params: { name: 'whoami', arguments: {} } });
    expect(JSON.parse((call.result as { content: Array<{ text: string }> }).content[0]!.text)).toMatchObject({
      scopes: ['mcp:tools'],
    });
    const [sid] = s.endpoint.sessionIds();
    p.child.stdin.end();
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(s.endpoint.deleted).toEqual([sid]);
    // stdout carries JSON-RPC only; logs and the sign-in prompt go to stderr.
    expect(messagesOf(p).map((m) => m.id)).toEqual([1, 'x']);
    expect(p.stderr).toContain('"msg":"logged in"');
    const tokens = (await new FileTokenStore({ home }).list(s.mcpUrl))[0]!.tokens!;
    expect(p.stderr).not.toContain(tokens.access_token);
  });

  it('refresh single-flight across two concurrent processes: one refresh grant, no rotating-token reuse, both succeed', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const home = await tempHome();
    const store = new FileTokenStore({ home });
    const browser = autoBrowser();
    await createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    }).login();
    const rec = (await store.list(s.mcpUrl))[0]!;
    await store.set({ ...rec, tokens: { ...rec.tokens!, expires_at: Date.now() - 1000 } });
    s.provider.expireAccessTokens();

    const env = { MCP_STREAMABLEHTTP_CLIENT_HOME: home };
    const procs = [0, 1].map(() => spawnClient(['tools', 'list', '--url', s.mcpUrl], env));
    const exits = await Promise.all(procs.map((p) => p.exited));
    expect(
      exits.map((e) => e.code),
      procs.map((p) => p.stderr).join('\n'),
    ).toEqual([0, 0]);
    for (const p of procs) expect(p.stdout).toContain('echo');
    expect(s.provider.refreshGrants).toBe(1);
    expect(s.provider.refreshReuse).toBe(0);
    expect(browser.urls).toHaveLength(1);
  });

  it('exit codes of the real binary: 2 usage, 4 unreachable, 3 auth', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    const home = await tempHome();
    const runs = [
      spawnClient(['--nope']),
      spawnClient(['tools', 'list', '--url', 'http://127.0.0.1:9/mcp']),
      spawnClient(['tools', 'list', '--url', s.mcpUrl], { MCP_STREAMABLEHTTP_CLIENT_HOME: home }),
    ];
    const codes = (await Promise.all(runs.map((r) => r.exited))).map((e) => e.code);
    expect(codes).toEqual([2, 4, 3]);
  });

  it('stream lost, real binary: a stdio parent gets exactly one answer per request when the server ends or cuts the answer stream', async () => {
    const s = await startCuttingServer((m) =>
      m === 'test/end' ? 'end' : m === 'test/cut' ? 'cut' : 'answer',
    );
    closers.push(() => s.close());
    const p = spawnClient(['--url', s.mcpUrl], { MCP_STREAMABLEHTTP_CLIENT_HOME: await tempHome() });
    expect((await rpc(p, { id: 0, method: 'initialize', params: INIT })).result).toBeDefined();
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const [ended, cut] = await Promise.all([
      rpc(p, { id: 1, method: 'test/end' }),
      rpc(p, { id: 2, method: 'test/cut' }),
    ]);
    expect(ended.error).toMatchObject({ code: -32000, data: { code: 'stream_ended' } });
    expect(cut.error).toMatchObject({ code: -32000, data: { code: 'stream_ended' } });
    expect((await rpc(p, { id: 3, method: 'test/answer' })).result).toEqual({ ok: true });
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    const answers = messagesOf(p).filter((m) => !('method' in m));
    expect(answers.map((m) => m.id).sort()).toEqual([0, 1, 2, 3]);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during the startup probe (the server never answers it) exits 0, not a crash`, async () => {
      const s = await startHangingServer();
      closers.push(() => s.close());
      const p = spawnClient(['--url', s.mcpUrl], { MCP_STREAMABLEHTTP_CLIENT_HOME: await tempHome() });
      expect(await s.firstRequest()).toBe('POST /mcp');
      p.child.kill(signal);
      const exit = await p.exited;
      expect(exit, p.stderr).toEqual({ code: 0, signal: null });
      expect(p.stderr).not.toContain('TypeError');
    });
  }

  it('a host line longer than the 16 MiB cap is answered -32700 (id null) and skipped; the bridge keeps working', async () => {
    const s = await startCuttingServer(() => 'answer');
    closers.push(() => s.close());
    const p = spawnClient(['--url', s.mcpUrl], { MCP_STREAMABLEHTTP_CLIENT_HOME: await tempHome() });
    expect((await rpc(p, { id: 0, method: 'initialize', params: INIT })).result).toBeDefined();
    // 17 MiB in one line, no newline until the end: readline would buffer it all (and crash on more).
    p.child.stdin.write(
      `{"jsonrpc":"2.0","id":"big","method":"test/answer","params":{"x":"${'x'.repeat(17 * 1024 * 1024)}"}}\n`,
    );
    expect((await rpc(p, { id: 1, method: 'test/answer' })).result).toEqual({ ok: true });
    const errors = messagesOf(p).filter((m) => m.id === null);
    expect(errors).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('Parse error') } },
    ]);
    expect(messagesOf(p).some((m) => m.id === 'big')).toBe(false);
    expect(p.stderr).toContain('dropping a host message longer than the limit');
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });

  it('request deadline: against a server that accepts and never answers, the host gets an error answer to initialize within the deadline (--request-timeout)', async () => {
    const s = await startHangingServer();
    closers.push(() => s.close());
    const p = spawnClient(['--url', s.mcpUrl, '--request-timeout', '1'], {
      MCP_STREAMABLEHTTP_CLIENT_HOME: await tempHome(),
    });
    await s.firstRequest(); // the startup probe (its deadline: 1 s too)
    const sent = Date.now();
    const init = await rpc(p, { id: 0, method: 'initialize', params: INIT }, 10_000);
    // The probe's deadline (at most 1 s left) plus initialize's own (1 s), and some slack.
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(init.error).toMatchObject({ code: -32000, data: { kind: 'network', code: 'timeout' } });
    expect(s.received).toEqual(['POST /mcp', 'POST /mcp']);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });

  it('request deadline from MCP_CLIENT_REQUEST_TIMEOUT; a bad value is a usage error', async () => {
    const s = await startHangingServer();
    closers.push(() => s.close());
    const home = await tempHome();
    const p = spawnClient(['--url', s.mcpUrl], {
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
      MCP_CLIENT_REQUEST_TIMEOUT: '1',
    });
    const init = await rpc(p, { id: 0, method: 'initialize', params: INIT }, 10_000);
    expect(init.error).toMatchObject({ code: -32000, data: { code: 'timeout' } });
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
    const bad = spawnClient(['--url', s.mcpUrl, '--request-timeout', '0'], {
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    });
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr).toContain('--request-timeout must be an integer');
  });
});

/**
 * What the host writes while the startup probe (`server/discover`) is still
 * waiting for the server is kept (unread on stdin) and handled, in order, once
 * the probe is over, whichever era the server turns out to speak.
 */
describe('bridge: host messages during the startup probe', () => {
  for (const era of ['modern', 'legacy'] as const) {
    it(`${era === 'modern' ? '2026-07-28' : '2025'} server: initialize, initialized and a request sent while the probe waits are all answered after it`, async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const s = await startScriptedServer(era, (m) => (m === 'server/discover' ? { after: held } : 'answer'));
      closers.push(() => s.close());
      const p = spawnClient(['--url', s.mcpUrl], { MCP_STREAMABLEHTTP_CLIENT_HOME: await tempHome() });
      const lines = [
        { jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ];
      // Written at once, without waiting for any answer; the callback: handed to the pipe.
      const written = new Promise<void>((resolve, reject) =>
        p.child.stdin.write(lines.map((l) => JSON.stringify(l) + '\n').join(''), (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      await Promise.all([written, s.arrived('server/discover')]);
      // The probe is still unanswered: nothing can have been answered or forwarded yet.
      expect(p.stdout).toBe('');
      expect(s.received).toEqual(['server/discover']);
      release();

      await p.waitForOutput(/"id":2[,}]/, { stream: 'stdout' });
      const answers = messagesOf(p);
      expect(answers.map((m) => m.id)).toEqual([1, 2]);
      expect(answers[0]).toMatchObject({
        result: { serverInfo: { name: era === 'modern' ? 'scripted-2026' : 'scripted-2025' } },
      });
      expect(answers[1]).toMatchObject({ result: { tools: [{ name: 'slow' }] } });
      const posted = s.received.filter((m) => m !== 'GET');
      expect(posted).toEqual(
        era === 'modern'
          ? ['server/discover', 'tools/list']
          : ['server/discover', 'initialize', 'notifications/initialized', 'tools/list'],
      );
      p.child.stdin.end();
      expect((await p.exited).code).toBe(0);
    });
  }
});
