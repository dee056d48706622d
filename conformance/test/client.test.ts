import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, expectedFailures, invalidEntries, listedScenarios, runSuite, workspace } from './suite.js';

const adapter = path.join(workspace, 'bin', 'client-adapter.mjs');

describe('MCP conformance suite 0.1.16: client scenarios against mcp-streamablehttp-client', () => {
  it('passes every client scenario except those in expected-failures.client.json', async () => {
    const expected = await expectedFailures('expected-failures.client.json');
    const listed = await listedScenarios('client');
    expect(invalidEntries(expected, listed), 'entries must name a scenario and give a reason').toEqual([]);

    // Scenarios run in parallel; a failing one waits at most --timeout.
    const run = await runSuite(
      ['client', '--command', `${process.execPath} ${adapter}`, '--suite', 'all', '--timeout', '20000'],
      { timeoutMs: 240_000 },
    );
    expect([...run.results.keys()].sort(), run.output.slice(-4000)).toEqual([...listed].sort());

    expect(compare(run, expected), run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  });
});
