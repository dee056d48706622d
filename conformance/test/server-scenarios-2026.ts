import { expect } from 'vitest';
import { compare, expectedFailures, requiredScenarios, runSuite, type SuiteRun } from './suite.js';

/** The revision whose frozen server set the 0.2.0 suite scores. */
export const REVISION = '2026-07-28';

/** The server scenarios `conformance-next list --requirements 2026-07-28` names (the frozen, scored set). */
export const requiredServerScenarios = (): Promise<string[]> => requiredScenarios('Server', REVISION);

/** The check objects a `--verbose` single-scenario run prints as one JSON array. */
function checksOf(output: string): { id: string; status: string }[] {
  const start = output.indexOf('\n[\n');
  const end = output.indexOf('\n]', start);
  if (start < 0 || end < 0) throw new Error(`no checks in output: ${output.slice(-2000)}`);
  return JSON.parse(output.slice(start + 1, end + 2)) as { id: string; status: string }[];
}

/** Only the given scenarios of a run. */
function only(run: SuiteRun, scenarios: string[]): SuiteRun {
  return { ...run, results: new Map([...run.results].filter(([name]) => scenarios.includes(name))) };
}

/**
 * Runs `--requirements 2026-07-28` against `url` and asserts: the frozen set has 37 server
 * scenarios, all ran, and each failing one is listed in `expectedFile` (`{}` when none is
 * expected to fail). Entries are `scenario` (the whole scenario may fail) or `scenario:check-id`
 * (only that check may; a `--verbose` single-scenario run pins exactly which checks fail); each
 * needs a reason, and a listed scenario that passes is stale. Returns the full run (the
 * not-scored scenarios included) for further assertions.
 */
export async function expectRequiredServerScenarios(
  url: string,
  expectedFile: string | undefined,
): Promise<SuiteRun> {
  const expected = expectedFile === undefined ? {} : await expectedFailures(expectedFile);
  const required = await requiredServerScenarios();
  expect(required.length, 'the frozen 2026-07-28 server set').toBe(37);
  const perCheck = new Map<string, string[]>();
  const wholesale: Record<string, string> = {};
  for (const [key, reason] of Object.entries(expected)) {
    const [scenario, check] = key.split(':') as [string, string | undefined];
    expect(required, `${key} must name a required scenario`).toContain(scenario);
    expect(reason.length, `${key} must give a reason`).toBeGreaterThan(20);
    if (check === undefined) wholesale[scenario] = reason;
    else perCheck.set(scenario, [...(perCheck.get(scenario) ?? []), check]);
  }

  const run = await runSuite(['server', '--url', url, '--requirements', REVISION], {
    timeoutMs: 180_000,
    suite: 'conformance-next',
  });
  expect(
    required.filter((s) => !run.results.has(s)),
    run.output.slice(-4000),
  ).toEqual([]);
  // Scenario level: a scenario with per-check entries may fail as a whole; the next step pins which checks.
  const allowed = {
    ...wholesale,
    ...Object.fromEntries([...perCheck.keys()].map((s) => [s, 'per-check'])),
  };
  expect(compare(only(run, required), allowed), run.output.slice(-8000)).toEqual({
    unexpected: [],
    stale: [],
  });

  // Check level: in the scenarios listed per check, exactly the listed checks fail.
  for (const [scenario, checks] of perCheck) {
    const one = await runSuite(
      ['server', '--url', url, '--scenario', scenario, '--spec-version', REVISION, '--verbose'],
      { timeoutMs: 60_000, suite: 'conformance-next' },
    );
    const failing = checksOf(one.output)
      .filter((c) => c.status === 'FAILURE')
      .map((c) => c.id);
    expect([...new Set(failing)].sort(), `${scenario}: failing checks`).toEqual([...checks].sort());
  }
  return run;
}
