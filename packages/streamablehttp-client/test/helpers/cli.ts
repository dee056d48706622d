import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { spawnCli, type SpawnedCli } from '@mcp-gateway/testkit';
import { runCli } from '../../src/cli/main.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The CLI entry, run through tsx so tests never see a stale build. */
export const CLI_SOURCE = path.resolve(here, '../../src/cli.ts');

/** Result of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in this process (same code as the binary, with injected
 * stdin/stdout/stderr/env). `onStderr` sees stderr as it is written, e.g. to
 * follow the printed sign-in URL.
 */
export async function cli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: Readable; onStderr?: (text: string) => void } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (onText: (t: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        onText(chunk.toString());
        done();
      },
    });
  const code = await runCli(args, {
    stdin: opts.stdin ?? Readable.from([]),
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => {
      stderr += t;
      opts.onStderr?.(t);
    }),
    env: { PATH: process.env.PATH, ...opts.env },
  });
  return { code, stdout, stderr };
}

/** A writable stdin for in-process bridge runs. */
export function stdinPipe(): PassThrough {
  return new PassThrough();
}

/** Spawns the real CLI as a child process (a real stdio parent drives it). */
export function spawnClient(args: string[], env: NodeJS.ProcessEnv = {}): SpawnedCli {
  return spawnCli(process.execPath, ['--import', 'tsx', CLI_SOURCE, ...args], { env });
}

/** JSON-RPC messages a spawned bridge has written to stdout so far. */
export function messagesOf(p: SpawnedCli): Array<Record<string, unknown>> {
  return p.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Sends a request line and resolves with the answer carrying its id. */
export async function rpc(
  p: SpawnedCli,
  message: Record<string, unknown>,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  p.writeLine(JSON.stringify({ jsonrpc: '2.0', ...message }));
  const id = JSON.stringify(message.id);
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await p.waitForOutput(new RegExp(`"id":${escaped}[,}]`), { stream: 'stdout', timeoutMs });
  return messagesOf(p).find((m) => JSON.stringify(m.id) === id && !('method' in m))!;
}
