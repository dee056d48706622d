// What a phase of requests allocates in a server process: a preload (plain JS, loaded with
// `node --require`) toggles V8's sampling heap profiler on SIGUSR2 with objects that scavenges
// and mark-compacts collect included (so garbage counts, which `--heap-prof` leaves out), and
// counts GCs and the process's CPU time per phase. Bytes per call do not depend on what else
// runs on a shared machine, unlike throughput. Used by gateway-2026/alloc.ts and federated/alloc.ts.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SpawnedCli } from '@mcp-gateway/testkit';

const PRELOAD = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const session = new inspector.Session();
session.connect();
let on = false, n = 0, gc, cpu0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!on) continue;
    if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++; else gc.major++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  if (!on) {
    gc = { minor: 0, major: 0, ms: 0 };
    cpu0 = process.cpuUsage();
    const opts = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
    session.post('HeapProfiler.startSampling', opts, () => { on = true; process.stderr.write('PROBE started\\n'); });
    return;
  }
  on = false;
  const cpu = process.cpuUsage(cpu0);
  session.post('HeapProfiler.stopSampling', (err, r) => {
    const file = process.env.PROBE_DIR + '/phase-' + n++ + '.heapprofile';
    fs.writeFileSync(file, JSON.stringify(r.profile));
    let bytes = 0;
    const walk = (node) => { bytes += node.selfSize; node.children.forEach(walk); };
    walk(r.profile.head);
    process.stderr.write('PROBE ' + JSON.stringify({ file, bytes, gc, cpuUs: cpu.user + cpu.system }) + '\\n');
  });
});
`;

/** Writes the preload into `dir`; returns the node arguments that load it. */
export function allocPreloadArgs(dir: string): string[] {
  const file = path.join(dir, 'alloc-preload.cjs');
  writeFileSync(file, PRELOAD);
  return ['--require', file];
}

/** One phase's measurement: sampled bytes, GCs and the process's CPU time. */
export interface AllocPhase {
  file: string;
  bytes: number;
  gc: { minor: number; major: number; ms: number };
  cpuUs: number;
}

/**
 * Measures phases of a server started with {@link allocPreloadArgs} (and `PROBE_DIR` in its
 * environment, where each phase's `.heapprofile` goes): `phase(run)` starts sampling, awaits
 * `run`, stops, and resolves with what the process reported.
 */
export function allocProbe(server: SpawnedCli): <T>(run: () => Promise<T>) => Promise<[AllocPhase, T]> {
  let seen = 0;
  const next = async (pattern: RegExp) => {
    for (;;) {
      const m = pattern.exec(server.stderr.slice(seen));
      if (m) {
        seen += m.index + m[0].length;
        return m;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return async (run) => {
    process.kill(server.pid, 'SIGUSR2');
    await next(/PROBE started\n/);
    const r = await run();
    process.kill(server.pid, 'SIGUSR2');
    return [JSON.parse((await next(/PROBE (\{.*\})\n/))[1]!) as AllocPhase, r];
  };
}

/** One printed line of a phase: bytes, GCs and CPU per call. */
export function allocLine(
  label: string,
  s: AllocPhase,
  calls: number,
  r: { non2xx: number; errors: number },
) {
  return (
    `  ${label}  ${(s.bytes / calls).toFixed(0).padStart(6)} bytes/call  scavenges ${s.gc.minor}  ` +
    `mark-compacts ${s.gc.major}  GC ${s.gc.ms.toFixed(0)} ms  gateway CPU ${(s.cpuUs / calls).toFixed(0)} µs/call` +
    `${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}  ${s.file}`
  );
}
