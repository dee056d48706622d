import { expect } from 'vitest';
import { compare, expectedFailures, invalidEntries, listedScenarios, runSuite } from './suite.js';

/**
 * The warnings every server run gets from `server-sse-polling` (0.1.16): its POST announces
 * `MCP-Protocol-Version: 2025-03-26`, and servers send SSE priming events (an id, `retry:`,
 * empty data) only to clients of 2025-11-25 or later, whose parsers accept empty data (SEP-1699;
 * the MCP SDK's server does the same). A warning is not a failure; any other warning is news.
 */
export const SSE_POLLING_WARNINGS = [
  'server-server-sse-polling server-sse-priming-event: Server did not send priming event with id and empty data on POST SSE stream. This is recommended for resumability.',
  'server-server-sse-polling server-sse-retry-field: Server did not send retry field. This is recommended for controlling client reconnection timing.',
];

/**
 * Runs every server scenario of the suite, pending ones included (`--suite all`), against `url`
 * and asserts: every scenario ran, each failure is listed in `expectedFile` with a reason, no
 * listed scenario passed (stale), and the warnings are exactly `warnings`.
 */
export async function expectServerScenarios(
  url: string,
  expectedFile: string,
  warnings: string[] = SSE_POLLING_WARNINGS,
): Promise<void> {
  const expected = await expectedFailures(expectedFile);
  const listed = await listedScenarios('server');
  expect(invalidEntries(expected, listed), 'entries must name a scenario and give a reason').toEqual([]);
  const run = await runSuite(['server', '--url', url, '--suite', 'all'], { timeoutMs: 240_000 });
  expect([...run.results.keys()].sort(), run.output.slice(-4000)).toEqual([...listed].sort());
  expect(compare(run, expected), run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  expect(run.warnings).toEqual(warnings);
}
