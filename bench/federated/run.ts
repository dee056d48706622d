// bench/federated: an echo `tools/call` through a federated endpoint (issue 20) against
// the same call straight to the service, both through one gateway in one run, printed
// as a ratio (federated/direct throughput, aim >= 0.9):
//   2026  stateless calls: `/fed` (the endpoint asks the member with a synthetic
//         2026-07-28 request through the same backend) vs `/bench/mcp`;
//   2025  one session each: a federated session vs a bridged session of the service.
// The service is the testkit fixture over stdio; the federated endpoint has it as its
// only member (prefix `conditional`, so `echo` keeps its name and both sides send the
// same body). Every answer is checked before the load runs.
//
// Bounded: BENCH_ROUNDS alternating rounds (default 5) of BENCH_DURATION seconds per
// autocannon run (default 3), c=1, about a minute in all; each ratio is the median of
// the per-round ratios, and every round is printed. Also printed: the gateway process's
// CPU time per request of each kind (/proc, summed over the rounds), steadier than
// throughput on a shared machine. Everything listens on 127.0.0.1; the gateway and its
// children are killed at the end. BENCH_PROF=<dir> writes a CPU profile of the gateway
// process into <dir>.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@mcp-gateway/testkit';
import {
  checkEchoCall,
  checkEchoCall2026,
  median,
  toolsCallLoad,
  toolsCallLoad2026,
  type AutocannonResult,
} from '../lib/autocannon.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { treeCpuMs } from '../lib/proc.js';
import { startServer, stopServer } from '../lib/servers.js';
import { openSession, waitReady, writeBenchGatewayConfig } from '../lib/session.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_ONLY=f26,d26: run only these kinds (e.g. to profile one path); no ratios are printed then. */
const ONLY = process.env.BENCH_ONLY?.split(',');

const fmt = (r: AutocannonResult) =>
  `${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}`;

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-federated-'));
  const port = await freePort();
  writeBenchGatewayConfig(cwd, port);
  appendFileSync(path.join(cwd, 'mcp-gateway.yaml'), 'federated:\n  - path: /fed\n    services: [bench]\n');
  gatewayCli(cwd, ['users', 'add', 'bench', '--password', `p${randomBytes(18).toString('hex')}`]);
  const direct = {
    authorization: `Bearer ${gatewayCli(cwd, ['token', '--user', 'bench', '--service', 'bench'])}`,
  };
  const fed = {
    authorization: `Bearer ${gatewayCli(cwd, ['token', '--user', 'bench', '--service', '/fed'])}`,
  };
  const prof = process.env.BENCH_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROF)}`]
    : [];
  const gateway = startServer([...prof, GATEWAY_CLI], { cwd });
  try {
    const base = `http://127.0.0.1:${port}`;
    const directUrl = `${base}/bench/mcp`;
    const fedUrl = `${base}/fed`;
    await waitReady(`${base}/healthz`);
    await checkEchoCall2026(directUrl, direct);
    await checkEchoCall2026(fedUrl, fed);
    const directSid = await openSession(directUrl, direct);
    const fedSid = await openSession(fedUrl, fed);
    await checkEchoCall(fedUrl, { 'mcp-session-id': fedSid, ...fed });
    const runs: Record<string, () => Promise<AutocannonResult>> = {
      d26: () => toolsCallLoad2026(directUrl, direct, 1, DURATION),
      f26: () => toolsCallLoad2026(fedUrl, fed, 1, DURATION),
      d25: () => toolsCallLoad(directUrl, { ...direct, 'mcp-session-id': directSid }, 1, DURATION),
      f25: () => toolsCallLoad(fedUrl, { ...fed, 'mcp-session-id': fedSid }, 1, DURATION),
    };
    await runs.d26!(); // warm-up
    await runs.f26!();
    const rows: Record<string, AutocannonResult[]> = { d26: [], f26: [], d25: [], f25: [] };
    const cpu: Cpu = {};
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a drift in machine load favours neither.
      const order = round % 2 === 0 ? ['d26', 'f26', 'd25', 'f25'] : ['f26', 'd26', 'f25', 'd25'];
      for (const k of order.filter((k) => !ONLY || ONLY.includes(k))) {
        const before = treeCpuMs(gateway.pid);
        const r = await runs[k]!();
        const after = treeCpuMs(gateway.pid);
        rows[k]!.push(r);
        if (before && after) {
          const c = (cpu[k] ??= { gatewayMs: 0, requests: 0 });
          c.gatewayMs += after.root - before.root;
          c.requests += r.requests.total;
        }
      }
    }
    report(rows, cpu);
  } finally {
    await stopServer(gateway);
  }
}

/** Gateway-process CPU milliseconds and requests served, per kind of run. */
type Cpu = Record<string, { gatewayMs: number; requests: number }>;

function report(rows: Record<string, AutocannonResult[]>, cpu: Cpu) {
  if (ONLY) {
    for (const k of ONLY) {
      const c = cpu[k];
      if (c)
        console.log(`  ${k}: gateway CPU ${((c.gatewayMs * 1000) / c.requests).toFixed(0)} µs per request`);
    }
    return;
  }
  const pick = (k: string) =>
    [...rows[k]!].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(ROUNDS / 2)]!;
  const perRound = (f: string, d: string) =>
    rows[f]!.map((r, i) => r.requests.average / rows[d]![i]!.requests.average);
  console.log(
    `tools/call (echo), fixture stdio service, c=1; ${ROUNDS} alternating rounds of ${DURATION}s, medians`,
  );
  console.log(`  2026 direct      ${fmt(pick('d26'))}`);
  console.log(`  2026 federated   ${fmt(pick('f26'))}`);
  console.log(`  2025 direct      ${fmt(pick('d25'))}`);
  console.log(`  2025 federated   ${fmt(pick('f25'))}`);
  const r26 = perRound('f26', 'd26');
  const r25 = perRound('f25', 'd25');
  console.log(
    `  ratio federated/direct: 2026 ${median(r26).toFixed(2)}, 2025 ${median(r25).toFixed(2)} (aim >= 0.9)`,
  );
  console.log(
    `  per-round ratios: 2026 ${r26.map((x) => x.toFixed(2)).join(' ')}; 2025 ${r25.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const us = (k: string) => (cpu[k] ? (cpu[k].gatewayMs * 1000) / cpu[k].requests : NaN);
  if (cpu.d26 && cpu.f26 && cpu.d25 && cpu.f25) {
    console.log(
      `  gateway CPU per request (/proc, all rounds): 2026 direct ${us('d26').toFixed(0)} µs, ` +
        `federated ${us('f26').toFixed(0)} µs (+${(us('f26') - us('d26')).toFixed(0)}); ` +
        `2025 direct ${us('d25').toFixed(0)} µs, federated ${us('f25').toFixed(0)} µs (+${(us('f25') - us('d25')).toFixed(0)})`,
    );
  }
}

await main();
