import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runClientScenarios } from './client-runs.js';
import { compare, expectedFailures, invalidEntries, node22, suiteEntry } from './suite.js';

const execFileAsync = promisify(execFile);
const REVISION = '2026-07-28';
const FILE = 'expected-failures.client-2026.json';

/**
 * The client scenarios `conformance-next list --requirements 2026-07-28` names:
 * the frozen, scored set (the not-scored extension scenarios listed after it,
 * auth/dpop and others, are left out).
 */
async function requiredClientScenarios(): Promise<string[]> {
  const { stdout } = await execFileAsync(node22, [
    suiteEntry('conformance-next'),
    'list',
    '--requirements',
    REVISION,
  ]);
  const section = stdout.slice(stdout.indexOf('Client scenarios'));
  const block = section.slice(0, section.search(/\n\s*\n/));
  return [...block.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1]!);
}

describe(`MCP conformance suite 0.2.0-alpha.12, --requirements ${REVISION}: client scenarios against mcp-streamablehttp-client`, () => {
  it(`passes every required client scenario at the ${REVISION} wire except those in ${FILE}`, async () => {
    const required = await requiredClientScenarios();
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
