import { describe, expect, it } from 'vitest';
import { runClientScenarios } from './client-runs.js';
import { compare, expectedFailures, invalidEntries, requiredScenarios } from './suite.js';

const REVISION = '2026-07-28';
const FILE = 'expected-failures.client-2026.json';

/**
 * The 32 client scenarios `conformance-next list --requirements 2026-07-28` names (the frozen,
 * scored set; the not-scored extension scenarios listed after them, auth/dpop and others, are left out).
 */
describe(`MCP conformance suite 0.2.0-alpha.12, --requirements ${REVISION}: client scenarios against mcp-streamablehttp-client`, () => {
  it(`passes every required client scenario at the ${REVISION} wire except those in ${FILE}`, async () => {
    const required = await requiredScenarios('Client', REVISION);
    expect(required.length, 'the frozen 2026-07-28 client set').toBe(32);
    const expected = await expectedFailures(FILE);
    expect(invalidEntries(expected, required), 'entries must name a scenario and give a reason').toEqual([]);

    // Each scenario alone at the 2026-07-28 wire (`--spec-version`; `--requirements` runs them all in one process).
    const run = await runClientScenarios(required, {
      suite: 'conformance-next',
      specVersion: REVISION,
      lanes: 4,
    });
    expect([...run.results.keys()].sort()).toEqual([...required].sort());

    expect(compare(run, expected), run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  }, 900_000);
});
