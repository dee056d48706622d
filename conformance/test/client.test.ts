import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compare,
  expectedFailures,
  invalidEntries,
  listedScenarios,
  node22,
  suiteEntry,
  workspace,
  type SuiteRun,
} from './suite.js';

const adapter = path.join(workspace, 'bin', 'client-adapter.mjs');

/**
 * Scenarios run this many at a time, each in its own suite process
 * (`conformance client --scenario X`). With all 26 at once (`--suite all`) on
 * a 2-core machine the suite's own servers lag by over a second (sse-retry's
 * 50 ms close timer fired after 1.2–1.8 s), and sse-retry's ±200 ms check of
 * the client's `retry` delay then measures the machine, not the client.
 */
const LANES = 4;

/**
 * How long one client run may take. A scenario run alone also fails when its
 * client outlives this (the parallel `--suite` mode ignores that); on a busy
 * 2-core machine starting the suite, the adapter and the CLI takes seconds.
 */
const CLIENT_TIMEOUT_MS = 60_000;

/** One scenario: passed when the suite says `OVERALL: PASSED` (its checks, warnings and the client's exit code). */
function runScenario(name: string): Promise<{ ok: boolean; output: string }> {
  return mkdtemp(path.join(tmpdir(), 'mcp-conformance-')).then(
    (out) =>
      new Promise((resolve) => {
        execFile(
          node22,
          [
            suiteEntry('@modelcontextprotocol/conformance'),
            'client',
            '--command',
            `${process.execPath} ${adapter}`,
            '--scenario',
            name,
            '--timeout',
            String(CLIENT_TIMEOUT_MS),
            '-o',
            out,
          ],
          {
            cwd: out,
            timeout: CLIENT_TIMEOUT_MS + 60_000,
            maxBuffer: 16 * 1024 * 1024,
            env: { ...process.env, NO_COLOR: '1' },
          },
          (_err, stdout, stderr) => {
            const output = `${stdout}\n${stderr}`;
            void rm(out, { recursive: true, force: true }).then(() =>
              resolve({ ok: /OVERALL: PASSED/.test(output), output: `=== ${name}\n${diagnosis(output)}` }),
            );
          },
        );
      }),
  );
}

/** What says why a scenario failed: failed and warning checks, timeouts, exit codes, the client's stderr tail. */
function diagnosis(output: string): string {
  const marks = output
    .split('\n')
    .filter((l) => /FAILURE|WARNING|Error:|Warning:|timed out|EXITED|OVERALL/.test(l))
    .join('\n');
  const stderr = output.indexOf('Stderr:');
  return `${marks}\n${stderr >= 0 ? output.slice(stderr, stderr + 1500) : ''}`;
}

/**
 * Scenarios that time the client (sse-retry: its reconnect must come 450–700 ms
 * after the stream closed): run after the others, one at a time, with nothing
 * else of this test running.
 */
const TIMED = ['sse-retry'];

/** Every scenario: {@link LANES} at a time, then the {@link TIMED} ones alone. */
async function runAll(names: string[]): Promise<SuiteRun> {
  const results = new Map<string, boolean>();
  const outputs: string[] = [];
  const lane = async (queue: string[]) => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const r = await runScenario(name);
      results.set(name, r.ok);
      if (!r.ok) outputs.push(r.output);
    }
  };
  const parallel = names.filter((n) => !TIMED.includes(n));
  await Promise.all(Array.from({ length: LANES }, () => lane(parallel)));
  await lane(names.filter((n) => TIMED.includes(n)));
  return { results, output: outputs.join('\n'), warnings: [] };
}

describe('MCP conformance suite 0.1.16: client scenarios against mcp-streamablehttp-client', () => {
  it('passes every client scenario except those in expected-failures.client.json', async () => {
    const expected = await expectedFailures('expected-failures.client.json');
    const listed = await listedScenarios('client');
    expect(invalidEntries(expected, listed), 'entries must name a scenario and give a reason').toEqual([]);

    const run = await runAll(listed);
    expect([...run.results.keys()].sort()).toEqual([...listed].sort());

    expect(compare(run, expected), run.output.slice(-8000)).toEqual({ unexpected: [], stale: [] });
  }, 600_000);
});
