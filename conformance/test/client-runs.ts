import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { node22, suiteEntry, workspace, type SuiteRun } from './suite.js';

/** The adapter the suite runs as "the client": it maps each scenario onto mcp-streamablehttp-client. */
export const adapter = path.join(workspace, 'bin', 'client-adapter.mjs');

/**
 * How long one client run may take. A scenario run alone also fails when its
 * client outlives this (the parallel `--suite` mode ignores that); on a busy
 * 2-core machine starting the suite, the adapter and the CLI takes seconds.
 */
export const CLIENT_TIMEOUT_MS = 60_000;

/** Which suite runs the client scenarios, and at which spec revision (`--spec-version`; default: the scenario's own). */
export interface ClientRunOptions {
  suite: '@modelcontextprotocol/conformance' | 'conformance-next';
  specVersion?: string;
  /** Scenarios run this many at a time, each in its own suite process. */
  lanes: number;
  /**
   * Scenarios that time the client (sse-retry: its reconnect must come 450–700 ms
   * after the stream closed): run after the others, one at a time, with nothing
   * else of this run going on.
   */
  timed?: string[];
}

/** One scenario: passed when the suite says `OVERALL: PASSED` (its checks, warnings and the client's exit code). */
function runScenario(name: string, opts: ClientRunOptions): Promise<{ ok: boolean; output: string }> {
  return mkdtemp(path.join(tmpdir(), 'mcp-conformance-')).then(
    (out) =>
      new Promise((resolve) => {
        execFile(
          node22,
          [
            suiteEntry(opts.suite),
            'client',
            '--command',
            `${process.execPath} ${adapter}`,
            '--scenario',
            name,
            ...(opts.specVersion ? ['--spec-version', opts.specVersion] : []),
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
 * Every scenario alone (`conformance client --scenario X`), `lanes` at a time,
 * then the timed ones alone. With all at once (`--suite all`) on a 2-core
 * machine the suite's own servers lag by over a second, and timing checks then
 * measure the machine, not the client.
 */
export async function runClientScenarios(names: string[], opts: ClientRunOptions): Promise<SuiteRun> {
  const results = new Map<string, boolean>();
  const outputs: string[] = [];
  const timed = opts.timed ?? [];
  const lane = async (queue: string[]) => {
    for (let name = queue.shift(); name; name = queue.shift()) {
      const r = await runScenario(name, opts);
      results.set(name, r.ok);
      if (!r.ok) outputs.push(r.output);
    }
  };
  const parallel = names.filter((n) => !timed.includes(n));
  await Promise.all(Array.from({ length: opts.lanes }, () => lane(parallel)));
  await lane(names.filter((n) => timed.includes(n)));
  return { results, output: outputs.join('\n'), warnings: [] };
}
