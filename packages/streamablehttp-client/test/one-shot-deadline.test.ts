/**
 * The request deadline of the one-shot commands, with the real binary against
 * loopback servers that accept a request and never answer it: the command
 * exits 4 on its own, naming the deadline and `--request-timeout`.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned } from '@mcp-gateway/testkit';
import { spawnClient } from './helpers/cli.js';
import { startHangingServer } from './helpers/hanging-server.js';
import { startScriptedServer, type Behaviour } from './helpers/scripted-server.js';

const closers: Array<() => Promise<unknown>> = [];
let home: string;
afterEach(async () => {
  await killAllSpawned();
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  if (home) await fs.rm(home, { recursive: true, force: true });
});

/** Runs the binary with `--request-timeout 1` and waits for it to exit by itself. */
async function runTimed(url: string, args: string[]) {
  home ??= await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-deadline-'));
  const started = Date.now();
  const p = spawnClient([...args, '--url', url, '--request-timeout', '1'], {
    MCP_STREAMABLEHTTP_CLIENT_HOME: home,
  });
  const exit = await p.exited;
  return { exit, stderr: p.stderr, stdout: p.stdout, ms: Date.now() - started };
}

const DEADLINE_MESSAGE =
  /error: http:\/\/127\.0\.0\.1:\d+\/mcp .* within 1 s \(request deadline; see --request-timeout\)/;

describe('one-shot commands: --request-timeout', () => {
  it('a server that accepts and never answers: the server/discover probe of `tools list` gives up after the deadline (exit 4)', async () => {
    const s = await startHangingServer();
    closers.push(() => s.close());
    const run = await runTimed(s.mcpUrl, ['tools', 'list']);
    expect(run.exit, run.stderr).toEqual({ code: 4, signal: null });
    expect(run.stderr).toMatch(DEADLINE_MESSAGE);
    // The whole probe and its HTTP request share the deadline: either says so.
    expect(run.stderr).toMatch(/(sent no response|did not answer server\/discover) within 1 s/);
    expect(s.received).toEqual(['POST /mcp']);
    expect(run.ms).toBeLessThan(15_000);
  });

  it('the same server with --protocol 2025-11-25: initialize gives up after the deadline (exit 4)', async () => {
    const s = await startHangingServer();
    closers.push(() => s.close());
    const run = await runTimed(s.mcpUrl, ['resources', 'list', '--protocol', '2025-11-25']);
    expect(run.exit, run.stderr).toEqual({ code: 4, signal: null });
    expect(run.stderr).toMatch(DEADLINE_MESSAGE);
    expect(s.received).toEqual(['POST /mcp']);
  });

  const cases: Array<{
    name: string;
    era: 'modern' | 'legacy';
    behaviour: (method: string) => Behaviour;
    args: string[];
    received: string[];
    message: string;
    /** A command the same server answers in time, run first: the short deadline does not hurt it. */
    answered?: { args: string[]; stdout: string };
  }> = [
    {
      name: '2026-07-28 server: discover answered, tools/call never answered',
      era: 'modern',
      behaviour: (m) => (m === 'tools/call' ? 'hang' : 'answer'),
      args: ['tools', 'call', 'slow'],
      received: ['server/discover', 'tools/list', 'tools/call'],
      message: 'within 1 s',
      answered: { args: ['tools', 'list'], stdout: 'slow' },
    },
    {
      name: '2026-07-28 server via -c: tools/call never answered',
      era: 'modern',
      behaviour: (m) => (m === 'tools/call' ? 'hang' : 'answer'),
      args: ['-c', 'slow {}'],
      received: ['server/discover', 'tools/list', 'tools/call'],
      message: 'within 1 s',
    },
    {
      name: '2026-07-28 server: tools/call answered with an SSE stream that never carries the answer',
      era: 'modern',
      behaviour: (m) => (m === 'tools/call' ? 'silent-stream' : 'answer'),
      args: ['tools', 'call', 'slow'],
      received: ['server/discover', 'tools/list', 'tools/call'],
      message: 'did not answer tools/call within 1 s',
      answered: { args: ['tools', 'list'], stdout: 'slow' },
    },
    {
      name: '2026-07-28 server: raw request answered with an SSE stream that never carries the answer',
      era: 'modern',
      behaviour: (m) => (m === 'resources/list' ? 'silent-stream' : 'answer'),
      args: ['raw', '{"method":"resources/list"}'],
      received: ['server/discover', 'resources/list'],
      message: 'did not answer resources/list within 1 s',
    },
    {
      name: '2026-07-28 server: server/discover answered with an SSE stream that never carries the answer',
      era: 'modern',
      behaviour: (m) => (m === 'server/discover' ? 'silent-stream' : 'answer'),
      args: ['tools', 'list'],
      received: ['server/discover'],
      message: 'did not answer server/discover within 1 s',
    },
    {
      name: '2025 server: the probe answered as 2025 does, initialize never answered',
      era: 'legacy',
      behaviour: (m) => (m === 'initialize' ? 'hang' : 'answer'),
      args: ['prompts', 'list'],
      received: ['server/discover', 'initialize'],
      message: 'within 1 s',
    },
    {
      name: '2025 server: session started, tools/list and the session DELETE never answered',
      era: 'legacy',
      behaviour: (m) => (m === 'tools/list' || m === 'DELETE' ? 'hang' : 'answer'),
      args: ['tools', 'list'],
      received: ['server/discover', 'initialize', 'notifications/initialized', 'tools/list'],
      message: 'within 1 s',
    },
    {
      name: '2025 server: tools/list answered with an SSE stream that never carries the answer',
      era: 'legacy',
      behaviour: (m) => (m === 'tools/list' ? 'silent-stream' : 'answer'),
      args: ['tools', 'list'],
      received: ['server/discover', 'initialize', 'notifications/initialized', 'tools/list'],
      message: 'did not answer tools/list within 1 s',
      answered: { args: ['tools', 'call', 'slow'], stdout: 'done' },
    },
    {
      name: '2025 server: raw request answered with an SSE stream that never carries the answer',
      era: 'legacy',
      behaviour: (m) => (m === 'resources/list' ? 'silent-stream' : 'answer'),
      args: ['raw', '{"method":"resources/list"}'],
      received: ['server/discover', 'initialize', 'notifications/initialized', 'resources/list'],
      message: 'did not answer resources/list within 1 s',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 4, the deadline named`, async () => {
      const s = await startScriptedServer(c.era, c.behaviour);
      closers.push(() => s.close());
      if (c.answered) {
        const ok = await runTimed(s.mcpUrl, c.answered.args);
        expect(ok.exit, ok.stderr).toEqual({ code: 0, signal: null });
        expect(ok.stdout.trim()).toBe(c.answered.stdout);
        s.received.length = 0;
      }
      const run = await runTimed(s.mcpUrl, c.args);
      expect(run.exit, run.stderr).toEqual({ code: 4, signal: null });
      expect(run.stderr).toMatch(DEADLINE_MESSAGE);
      expect(run.stderr).toContain(c.message);
      // Not in a fixed order: the standalone GET stream (405 here), the SDK's
      // notifications/cancelled for a request it gave up on, the session DELETE.
      const unordered = ['GET', 'notifications/cancelled', 'DELETE'];
      const posted = s.received.filter((m) => !unordered.includes(m));
      expect(posted).toEqual(c.received);
      expect(run.stdout).toBe('');
    });
  }

  it('--json: the timeout is a network error with code timeout', async () => {
    const s = await startHangingServer();
    closers.push(() => s.close());
    const run = await runTimed(s.mcpUrl, ['tools', 'list', '--json']);
    expect(run.exit.code).toBe(4);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { kind: 'network', code: 'timeout', message: expect.stringContaining('--request-timeout') },
    });
  });
});
