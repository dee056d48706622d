import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A child process started by {@link spawnCli}. */
export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Resolves with the first match of `pattern` in stdout (or stderr with `stream: 'stderr'`). */
  waitForOutput(
    pattern: RegExp,
    opts?: { stream?: 'stdout' | 'stderr' | 'both'; timeoutMs?: number },
  ): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Writes a line to stdin. */
  writeLine(line: string): void;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  kill(graceMs?: number): Promise<void>;
}

const live = new Set<SpawnedCli>();

/**
 * Spawns `command args` in its own process group, capturing output. Every
 * child is registered so {@link killAllSpawned} (run it in `afterAll`) can end it;
 * children are also killed when the test process exits.
 */
export function spawnCli(
  command: string,
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): SpawnedCli {
  const child = spawn(command, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let hasExited = false;
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      live.delete(handle);
      // Grandchildren may outlive the leader: the group goes with it, now. Never later: once the
      // group is empty its number is free, and another test's new process group may get it.
      signalGroup(handle.pid, 'SIGKILL');
      notify();
      resolve({ code, signal });
    });
  });
  const handle: SpawnedCli = {
    child,
    pid: child.pid ?? -1,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForOutput(pattern, o = {}) {
      const stream = o.stream ?? 'both';
      const text = () =>
        stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : stdout + '\n' + stderr;
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text().match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (hasExited) {
            cleanup();
            reject(
              new Error(`process exited before ${pattern} appeared.\nstdout:\n${stdout}\nstderr:\n${stderr}`),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }, o.timeoutMs ?? 15_000);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    writeLine(line) {
      child.stdin.write(line + '\n');
    },
    async kill(graceMs = 3_000) {
      if (hasExited) return;
      signalGroup(handle.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(handle.pid, 'SIGKILL'), graceMs);
      await exited; // the exit handler kills what is left of the group
      clearTimeout(timer);
    },
  };
  live.add(handle);
  return handle;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every child started by {@link spawnCli} that is still running. */
export async function killAllSpawned(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

process.once('exit', () => {
  for (const c of live) signalGroup(c.pid, 'SIGKILL');
});

/** True when a process with this PID exists (signal 0 probe). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
