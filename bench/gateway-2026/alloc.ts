// bench/gateway-2026/alloc: what one `tools/call` allocates in the gateway process, 2025
// session against 2026-07-28 stateless, measured in alternating phases of PROBE_N calls (c=1).
// A preload in the gateway toggles V8's sampling heap profiler on SIGUSR2 with objects that
// scavenges and mark-compacts collect included (so garbage counts, which `--heap-prof` leaves
// out), and counts GCs and the process's CPU time per phase. Prints bytes per call, GCs and CPU
// µs per call per phase; each phase's `.heapprofile` (Chrome DevTools) goes to PROBE_DIR.
// Unlike throughput, bytes per call do not depend on what else runs on a shared machine.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@mcp-gateway/testkit';
import {
  autocannon,
  checkEchoCall2026,
  echoCall,
  echoCall2026,
  MCP_ACCEPT,
  MODERN_CALL_HEADERS,
} from '../lib/autocannon.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { startServer, stopServer } from '../lib/servers.js';
import { openSession, sessionHeaders, waitReady, writeBenchGatewayConfig } from '../lib/session.js';

const N = Number(process.env.PROBE_N ?? 4000);
const PHASES = Number(process.env.PROBE_PHASES ?? 2);

/** The gateway's preload (plain JS, written next to the config). */
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

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-alloc-'));
  const dir = path.resolve(process.env.PROBE_DIR ?? cwd);
  const port = await freePort();
  writeBenchGatewayConfig(cwd, port);
  writeFileSync(path.join(cwd, 'preload.cjs'), PRELOAD);
  gatewayCli(cwd, ['users', 'add', 'bench0', '--password', `p${randomBytes(18).toString('hex')}`]);
  const token = gatewayCli(cwd, ['token', '--user', 'bench0', '--service', 'bench']);
  const gateway = startServer(['--require', path.join(cwd, 'preload.cjs'), GATEWAY_CLI], {
    cwd,
    env: { PROBE_DIR: dir },
  });
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/bench/mcp`;
  const auth = { authorization: `Bearer ${token}` };
  try {
    await waitReady(`${base}/healthz`);
    const sid = await openSession(url, auth);
    await checkEchoCall2026(url, auth);
    let id = 1;
    const run = (era: '2025' | '2026', amount: number) =>
      autocannon({
        url,
        method: 'POST',
        connections: 1,
        amount,
        headers: era === '2025' ? sessionHeaders(sid, auth) : { ...MODERN_CALL_HEADERS, ...auth },
        requests: [
          {
            setupRequest: (r: Record<string, unknown>) => ({
              ...r,
              body: era === '2025' ? echoCall(id++) : echoCall2026(id++),
            }),
          },
        ],
      });
    await run('2025', 3000); // warm-up
    await run('2026', 3000);
    let seen = 0;
    const next = async (pattern: RegExp) => {
      for (;;) {
        const m = pattern.exec(gateway.stderr.slice(seen));
        if (m) {
          seen += m.index + m[0].length;
          return m;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    console.log(`tools/call (echo) through the gateway, c=1, phases of ${N} calls; MCP_ACCEPT ${MCP_ACCEPT}`);
    for (let p = 0; p < PHASES; p++) {
      for (const era of p % 2 === 0 ? (['2025', '2026'] as const) : (['2026', '2025'] as const)) {
        process.kill(gateway.pid, 'SIGUSR2');
        await next(/PROBE started\n/);
        const r = await run(era, N);
        process.kill(gateway.pid, 'SIGUSR2');
        const s = JSON.parse((await next(/PROBE (\{.*\})\n/))[1]!);
        console.log(
          `  ${era}  ${(s.bytes / N).toFixed(0).padStart(6)} bytes/call  scavenges ${s.gc.minor}  ` +
            `mark-compacts ${s.gc.major}  GC ${s.gc.ms.toFixed(0)} ms  gateway CPU ${(s.cpuUs / N).toFixed(0)} µs/call` +
            `${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}  ${s.file}`,
        );
      }
    }
  } finally {
    await stopServer(gateway);
  }
}

await main();
