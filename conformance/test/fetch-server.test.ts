import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFetchServer, type FetchServerProcess } from './fetch-server-process.js';
import { compare, expectedFailures, invalidEntries, listedScenarios, runSuite } from './suite.js';

let server: FetchServerProcess | undefined;
let url = '';

beforeAll(async () => {
  server = await startFetchServer();
  url = server.url;
});
afterAll(() => {
  server?.stop();
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
