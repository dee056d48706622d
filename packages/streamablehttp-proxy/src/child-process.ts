import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { LineSplitter } from '@mcp-gateway/internal/line-splitter';

/** Per-child resource limits, applied with util-linux `prlimit` when it is installed. */
export interface ChildLimits {
  /** Address-space limit in bytes (`RLIMIT_AS`). */
  memoryBytes?: number;
  /** CPU-time limit in seconds (`RLIMIT_CPU`). */
  cpuSeconds?: number;
}

/** What to start for each session. */
export interface ChildSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  limits?: ChildLimits;
  /** Longest stdout line accepted, in bytes. */
  maxLineBytes: number;
}

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started. */
  error?: string;
}

/** Describes an exit for people: `code 3` or `signal SIGKILL`. */
export function describeExit(exit: ChildExit): string {
  if (exit.error) return `failed to start: ${exit.error}`;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
}

/** Resolves `command` on `PATH` the way `spawn` would; `null` when it cannot run. */
export function resolveExecutable(command: string, envPath = process.env.PATH ?? ''): string | null {
  const canRun = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return canRun(command) ? command : null;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (canRun(candidate)) return candidate;
  }
  return null;
}

let prlimitPath: string | null | undefined;
/** Path of `prlimit`, or `null` when the system has none (looked up once). */
export function findPrlimit(): string | null {
  if (prlimitPath === undefined) prlimitPath = resolveExecutable('prlimit');
  return prlimitPath;
}

/**
 * One stdio MCP server process in its own process group. Frames stdout as
 * newline-delimited messages and stderr as log lines; `write` reports stdin
 * backpressure; `kill` ends the whole group (SIGTERM, then SIGKILL).
 */
export class ChildProcess {
  readonly pid: number;
  readonly startedAt: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | undefined;
  /** Set once a pooled child has answered its warm-up `ping` (it has loaded and reads stdin). */
  warm = false;
  /** Called with each stdout line (valid only during the call). */
  onLine: (line: Buffer) => void = () => {};
  /** Called with each stderr line. */
  onStderr: (line: string) => void = () => {};
  /** Called with the byte count of each stdout line over the cap. */
  onOverflow: (bytes: number) => void = () => {};
  /** Called once when the process has exited. */
  onExit: (exit: ChildExit) => void = () => {};
  private readonly proc: ChildProcessWithoutNullStreams;
  private drain: Promise<void> | undefined;

  constructor(spec: ChildSpec, now: number) {
    let command = spec.command;
    let args = spec.args;
    const limits = spec.limits;
    if (limits && (limits.memoryBytes || limits.cpuSeconds)) {
      const prlimit = findPrlimit();
      if (prlimit) {
        const flags: string[] = [];
        if (limits.memoryBytes) flags.push(`--as=${limits.memoryBytes}`);
        if (limits.cpuSeconds) flags.push(`--cpu=${limits.cpuSeconds}`);
        args = [...flags, '--', command, ...args];
        command = prlimit;
      }
    }
    this.startedAt = now;
    this.proc = spawn(command, args, {
      env: spec.env,
      cwd: spec.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.pid = this.proc.pid ?? -1;
    const out = new LineSplitter(
      spec.maxLineBytes,
      (line) => this.onLine(line),
      (bytes) => this.onOverflow(bytes),
    );
    const err = new LineSplitter(
      64 * 1024,
      (line) => this.onStderr(line.toString('utf8')),
      () => this.onStderr('[stderr line over 64 KiB dropped]'),
    );
    this.proc.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    this.proc.stdout.on('end', () => out.end());
    this.proc.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    this.proc.stderr.on('end', () => err.end());
    // A child that dies mid-write makes stdin emit EPIPE; the exit handler reports it.
    this.proc.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (exit: ChildExit) => {
        if (done) return;
        done = true;
        this.exit = exit;
        // Grandchildren may outlive the leader: the group goes with it, now. Never again after
        // this: once the group is empty its number is free for reuse, and a signal to it could
        // reach an unrelated process group (another child of ours among them).
        signalGroup(this.pid, 'SIGKILL');
        this.onExit(exit);
        resolve(exit);
      };
      this.proc.once('exit', (code, signal) => finish({ code, signal }));
      this.proc.once('error', (err) => finish({ code: null, signal: null, error: err.message }));
    });
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /**
   * Writes one framed message. Returns a promise only when stdin's buffer is
   * full; the caller awaits it before taking more input from that client.
   */
  write(line: string): Promise<void> | undefined {
    if (this.exit) return undefined;
    const stdin = this.proc.stdin;
    if (stdin.write(line + '\n')) return this.drain;
    this.drain ??= new Promise<void>((resolve) => {
      const done = () => {
        this.drain = undefined;
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    });
    return this.drain;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the leader exited. */
  async kill(graceMs: number): Promise<ChildExit> {
    if (this.exit) return this.exit; // its group was killed as it exited
    this.proc.stdin.end();
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    timer.unref();
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL to the group, synchronously (for process exit handlers). */
  killNow(): void {
    if (this.exit) return; // its group was killed as it exited
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}
