import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, expectedFailures, invalidEntries, listedScenarios, runSuite, workspace } from './suite.js';

const bin = path.resolve(workspace, '../packages/fetch-server/bin/mcp-fetch-server.js');
let child: ChildProcess | undefined;
let url = '';

/** Starts mcp-fetch-server on a free loopback port (our Node) and resolves with the URL it logs. */
function startFetchServer(): Promise<string> {
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [bin, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(seen);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`mcp-fetch-server exited (${code}) before listening: ${seen}`)),
    );
  });
}

beforeAll(async () => {
  url = await startFetchServer();
});
afterAll(() => {
  child?.kill();
});

describe('MCP conformance suite 0.1.16: server scenarios against mcp-fetch-server', () => {
  it('passes every active server scenario except those in expected-failures.fetch-server.json', async () => {
    const expected = await expectedFailures('expected-failures.fetch-server.json');
    const listed = await listedScenarios('server');
    expect(invalidEntries(expected, listed), 'entries must name a scenario and give a reason').toEqual([]);
    const run = await runSuite(['server', '--url', url], { timeoutMs: 120_000 });
    // The active suite: every listed scenario but the pending ones.
    expect(run.results.size, run.output.slice(-4000)).toBeGreaterThanOrEqual(listed.length - 2);
    expect(compare(run, expected), run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  });
});
