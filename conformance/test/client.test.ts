import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientScenarios, expectedFailures, runSuite, workspace } from './suite.js';

const adapter = path.join(workspace, 'bin', 'client-adapter.mjs');

describe('MCP conformance suite 0.1.16: client scenarios against mcp-streamablehttp-client', () => {
  it('passes every client scenario except those in expected-failures.client.json', async () => {
    const expected = await expectedFailures('expected-failures.client.json');
    const listed = await clientScenarios();
    for (const [name, reason] of Object.entries(expected)) {
      expect(listed, `expected failure ${name} is not a client scenario`).toContain(name);
      expect(reason.length, `expected failure ${name} needs a reason`).toBeGreaterThan(20);
    }

    // Scenarios run in parallel; a failing one waits at most --timeout.
    const run = await runSuite(
      ['client', '--command', `${process.execPath} ${adapter}`, '--suite', 'all', '--timeout', '20000'],
      { timeoutMs: 240_000 },
    );
    expect([...run.results.keys()].sort(), run.output.slice(-4000)).toEqual([...listed].sort());

    const failed = [...run.results].filter(([, ok]) => !ok).map(([name]) => name);
    const unexpected = failed.filter((name) => !(name in expected));
    // An entry whose reason starts with "flaky:" may pass or fail; any other listed scenario that passes is stale.
    const stale = Object.keys(expected).filter(
      (name) => run.results.get(name) === true && !expected[name]!.startsWith('flaky:'),
    );
    expect({ unexpected, stale }, run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  });
});
