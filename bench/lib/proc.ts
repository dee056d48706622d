// CPU time of a server and its children, read from /proc: unlike throughput on a
// shared machine, it does not depend on what else runs there.
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU milliseconds of a process and its live descendants: all of them, and the process alone. */
export interface TreeCpu {
  tree: number;
  root: number;
}

/**
 * User + system CPU milliseconds of process `pid` and of its live descendants
 * (a gateway and the stdio children its bridge started; those lead process
 * groups of their own, so the tree is followed by parent id). `undefined`
 * where /proc is not there.
 */
export function treeCpuMs(pid: number): TreeCpu | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (in parentheses, may hold spaces): state ppid … utime(14) stime(15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.set(Number(e), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  const root = procs.get(pid);
  if (!root) return undefined;
  const inTree = (p: number): boolean => {
    for (let q = p, hops = 0; q > 1 && hops < 64; hops++) {
      if (q === pid) return true;
      q = procs.get(q)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [p, { ticks: t }] of procs) if (inTree(p)) ticks += t;
  return { tree: ticks * TICK_MS, root: root.ticks * TICK_MS };
}
