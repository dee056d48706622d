import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { ClientError } from '../errors.js';

/** Options of {@link acquireLockFile}. */
export interface LockFileOptions {
  /** A lock older than this is taken over even if its owner seems alive. Default 10 minutes. */
  staleMs?: number;
  /** Give up waiting after this long. Default 6 minutes (longer than a login). */
  timeoutMs?: number;
  /** Poll interval while waiting. Default 25 ms. */
  retryMs?: number;
}

interface LockOwner {
  pid: number;
  hostname: string;
  created_at: number;
  nonce: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.created_at === 'number') return parsed as LockOwner;
    return { pid: -1, hostname: '', created_at: 0, nonce: '' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Half-written by a process that died between open and write: treat as stale.
    return { pid: -1, hostname: '', created_at: 0, nonce: '' };
  }
}

function isStale(owner: LockOwner, now: number, staleMs: number): boolean {
  if (now - owner.created_at > staleMs) return true;
  return owner.hostname === os.hostname() && !pidAlive(owner.pid);
}

/**
 * Takes an exclusive lock by creating `path` with `O_EXCL` (atomic on local
 * file systems), recording our pid. A lock whose owner process is gone (same
 * host) or that is older than `staleMs` is taken over. Resolves with a release
 * function. Waits by polling; throws after `timeoutMs`.
 */
export async function acquireLockFile(
  path: string,
  opts: LockFileOptions = {},
): Promise<() => Promise<void>> {
  const staleMs = opts.staleMs ?? 10 * 60_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 6 * 60_000);
  const me: LockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    created_at: 0,
    nonce: randomBytes(8).toString('hex'),
  };
  for (;;) {
    me.created_at = Date.now();
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      return async () => {
        const owner = await readOwner(path);
        if (owner?.nonce === me.nonce) await fs.rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner && isStale(owner, Date.now(), staleMs)) {
      // Move the stale lock aside atomically; if what we moved is not the lock
      // we judged stale (someone replaced it meanwhile), put it back.
      const aside = `${path}.stale-${process.pid}-${me.nonce}`;
      try {
        await fs.rename(path, aside);
        const moved = await readOwner(aside);
        if (moved && moved.nonce !== owner.nonce) await fs.link(aside, path).catch(() => {});
        await fs.rm(aside, { force: true });
      } catch {
        // someone else got there first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new ClientError(
        'auth',
        'lock_timeout',
        `timed out waiting for the credentials lock ${path} (held by pid ${owner?.pid})`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.retryMs ?? 25));
  }
}
