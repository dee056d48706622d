// bench/gateway-2026: MCP 2026-07-28 stateless `tools/call` through the gateway
// against 2025 sessions through the same gateway and stdio service, measured in
// one run and printed as a ratio (stateless/sessions throughput, aim >= 1.0):
//   c=1   one user: one 2025 session vs stateless calls (a pooled child of the user);
//   c=10  ten users, one connection each: ten sessions vs ten users' stateless calls
//         (a child each; one user's parallel calls have a section of their own).
// Then a new client's first result: 2025 needs initialize + initialized + the call
// (and a child started for the session); 2026 is the call alone, and its answer
// carries no Mcp-Session-Id (checked; the run fails otherwise).
//
// Also printed: the CPU time per request of the gateway and its stdio children
// (/proc, summed over the rounds), which unlike throughput does not depend on
// what else runs on a shared machine; and through raw keep-alive sockets, no load
// generator: c=1 in BENCH_LEAN_PAIRS (41) pairs of rounds of BENCH_LEAN_CALLS (500)
// calls, c=10 (ten users, a socket each) in BENCH_LEAN10_PAIRS (21) pairs of rounds
// of BENCH_LEAN10_CALLS (200) calls per user, eras alternating, the ratio the median
// of the pairs' ratios (with its quartiles), the CPU per call over those rounds and,
// at c=1, the ratio of the two eras' median call times. Every user's children of
// both eras are warmed up first. Last, the same calls through the MCP SDK's own clients, their
// cost included (gateway-2026/sdk-clients.ts): the SDK 2.x client pinned to 2026-07-28 against
// 2025 sessions of the SDK 1.x client and of the SDK 2.x client in 'legacy' mode, BENCH_SDK_ROUNDS
// (9) rounds of BENCH_SDK_CALLS (1000) calls each, after BENCH_SDK_WARMUP (10,000) calls of each
// client (a 2025 session's child is new). And one user's BENCH_PARALLEL_WIDTH (10) calls at
// once to a tool that waits 100 ms, one session against stateless calls, BENCH_PARALLEL_ROUNDS (9)
// alternating rounds (gateway-2026/parallel.ts).
//
// Bounded: BENCH_ROUNDS alternating rounds (default 7) of BENCH_DURATION seconds
// per autocannon run (default 3); about four and a half minutes in all with the raw-socket
// and SDK rounds. The ratio is the median of the per-round ratios, and every round is
// printed. Everything listens on 127.0.0.1; every child is killed at the end.
// BENCH_PROF=<dir> writes a CPU profile of the gateway process into <dir>.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@mcp-gateway/testkit';
import {
  checkEchoCall2026,
  echoCall,
  echoCall2026,
  median,
  MODERN_CALL_HEADERS,
  toolsCallLoad,
  toolsCallLoad2026,
  type AutocannonResult,
} from '../lib/autocannon.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { treeCpuMs } from '../lib/proc.js';
import { sequentialPosts } from '../lib/sequential.js';
import { startServer, stopServer } from '../lib/servers.js';
import { openSession, sessionHeaders, waitReady, writeBenchGatewayConfig } from '../lib/session.js';
import { parallelRounds, reportParallel } from './parallel.js';
import { reportSdk, sdkRounds } from './sdk-clients.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const USERS = 10;
const FIRST_RESULT_SAMPLES = 15;
const SDK_ROUNDS = Number(process.env.BENCH_SDK_ROUNDS ?? 9);
const SDK_CALLS = Number(process.env.BENCH_SDK_CALLS ?? 1000);
const SDK_WARMUP = Number(process.env.BENCH_SDK_WARMUP ?? 10_000);
const PARALLEL_WIDTH = Number(process.env.BENCH_PARALLEL_WIDTH ?? 10);
const PARALLEL_ROUNDS = Number(process.env.BENCH_PARALLEL_ROUNDS ?? 9);

/** One user's way in: its token, and the 2025 session opened for it. */
interface Client {
  auth: Record<string, string>;
  sid: string;
}

/** Runs one load per client at once (one connection each) and adds them up. */
async function together(loads: Promise<AutocannonResult>[]): Promise<AutocannonResult> {
  const rs = await Promise.all(loads);
  const sum = (f: (r: AutocannonResult) => number) => rs.reduce((n, r) => n + f(r), 0);
  return {
    requests: { average: sum((r) => r.requests.average), total: sum((r) => r.requests.total) },
    latency: { p50: median(rs.map((r) => r.latency.p50)), p99: Math.max(...rs.map((r) => r.latency.p99)) },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
  };
}

/** Milliseconds from nothing to a new client's first echo result, 2025 (session) and 2026 (none). */
async function firstResult(url: string, c: Client): Promise<{ legacy: number[]; modern: number[] }> {
  const legacy: number[] = [];
  const modern: number[] = [];
  for (let i = 0; i < FIRST_RESULT_SAMPLES; i++) {
    let t = performance.now();
    const sid = await openSession(url, c.auth, { check: false });
    const res = await fetch(url, {
      method: 'POST',
      headers: sessionHeaders(sid, c.auth),
      body: echoCall(i),
    });
    if (!(await res.text()).includes('hello bench')) throw new Error('2025 first call failed');
    legacy.push(performance.now() - t);
    await (await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': sid, ...c.auth } })).text();
    t = performance.now();
    await checkEchoCall2026(url, c.auth);
    modern.push(performance.now() - t);
  }
  return { legacy, modern };
}

const fmt = (r: AutocannonResult) =>
  `${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}`;

const LEAN_CALLS = Number(process.env.BENCH_LEAN_CALLS ?? 500);
const LEAN_PAIRS = Number(process.env.BENCH_LEAN_PAIRS ?? 41);
const LEAN10_CALLS = Number(process.env.BENCH_LEAN10_CALLS ?? 200);
const LEAN10_PAIRS = Number(process.env.BENCH_LEAN10_PAIRS ?? 21);

/**
 * What the raw-socket rounds of one era measured: µs per call of each round, every call's µs (c=1),
 * and the CPU the gateway (and its children) used over the measured rounds.
 */
interface LeanEra {
  rounds: number[];
  calls: number[];
  cpu: Cpu;
}

/**
 * Raw keep-alive sockets (lib/sequential.ts), one per client, all at once: many short pairs of
 * rounds, eras alternating, so that the machine's speed drifting during the run (it does, by
 * ±20 % on a shared 2-core VM) moves both halves of a pair alike. A round's figure is its wall
 * time per call over all clients.
 */
async function leanRounds(
  url: string,
  gatewayPid: number,
  clients: Client[],
  pairs: number,
  calls: number,
): Promise<{ legacy: LeanEra; modern: LeanEra }> {
  const era = (headers: (c: Client) => Record<string, string>, body: (id: number) => string) => {
    const out: LeanEra = { rounds: [], calls: [], cpu: { ms: 0, gatewayMs: 0, clientMs: 0, requests: 0 } };
    const round = async (keep: boolean) => {
      const before = treeCpuMs(gatewayPid);
      const t = performance.now();
      const latencies = keep && clients.length === 1 ? out.calls : undefined;
      await Promise.all(clients.map((c) => sequentialPosts(url, headers(c), body, calls, latencies)));
      if (!keep) return;
      out.rounds.push(((performance.now() - t) * 1000) / (calls * clients.length));
      const after = treeCpuMs(gatewayPid);
      if (before && after) {
        out.cpu.ms += after.tree - before.tree;
        out.cpu.gatewayMs += after.root - before.root;
        out.cpu.requests += calls * clients.length;
      }
    };
    return { out, round };
  };
  const legacy = era((c) => sessionHeaders(c.sid, c.auth), echoCall);
  const modern = era((c) => ({ ...MODERN_CALL_HEADERS, ...c.auth }), echoCall2026);
  await legacy.round(false); // warm-up
  await modern.round(false);
  for (let pair = 0; pair < pairs; pair++) {
    const [first, second] = pair % 2 === 0 ? [legacy, modern] : [modern, legacy];
    await first.round(true);
    await second.round(true);
  }
  return { legacy: legacy.out, modern: modern.out };
}

/** The value below which a fraction `q` of the sorted `xs` lie. */
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function reportLean(title: string, lean: { legacy: LeanEra; modern: LeanEra }) {
  const { legacy, modern } = lean;
  const ratios = modern.rounds.map((m, i) => legacy.rounds[i]! / m).sort((a, b) => a - b);
  const p50 = (calls: number[]) =>
    quantile(
      [...calls].sort((a, b) => a - b),
      0.5,
    );
  const perCall = legacy.calls.length > 0;
  console.log(title);
  console.log(
    `  2025 session${perCall ? '' : 's'} ${median(legacy.rounds).toFixed(0)} µs per call` +
      (perCall ? ` (p50 ${p50(legacy.calls).toFixed(0)})` : '') +
      `, 2026 stateless ${median(modern.rounds).toFixed(0)} µs` +
      (perCall ? ` (p50 ${p50(modern.calls).toFixed(0)})` : ''),
  );
  console.log(
    `  ratio stateless/sessions ${median(ratios).toFixed(2)} (median of the pairs' ratios; quartiles ` +
      `${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)})` +
      (perCall ? `, p50 latency ratio ${(p50(legacy.calls) / p50(modern.calls)).toFixed(2)}` : ''),
  );
  const us = (c: Cpu, f: 'ms' | 'gatewayMs') => (c[f] * 1000) / c.requests;
  if (legacy.cpu.requests > 0 && modern.cpu.requests > 0) {
    console.log(
      `  CPU per call, gateway + children: 2025 ${us(legacy.cpu, 'ms').toFixed(0)} µs (gateway ` +
        `${us(legacy.cpu, 'gatewayMs').toFixed(0)}), 2026 ${us(modern.cpu, 'ms').toFixed(0)} µs (gateway ` +
        `${us(modern.cpu, 'gatewayMs').toFixed(0)}); 2026/2025 ${(us(modern.cpu, 'ms') / us(legacy.cpu, 'ms')).toFixed(2)}`,
    );
  }
}

/** Writes the config, adds the users and issues their tokens, before the gateway starts. */
function prepare(cwd: string, port: number): string[] {
  writeBenchGatewayConfig(cwd, port);

  const tokens: string[] = [];
  for (let i = 0; i < USERS; i++) {
    gatewayCli(cwd, ['users', 'add', `bench${i}`, '--password', `p${randomBytes(18).toString('hex')}`]);
    tokens.push(gatewayCli(cwd, ['token', '--user', `bench${i}`, '--service', 'bench']));
  }
  return tokens;
}

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-gateway-2026-'));
  const port = await freePort();
  const tokens = prepare(cwd, port);
  const prof = process.env.BENCH_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROF)}`]
    : [];
  const gateway = startServer([...prof, GATEWAY_CLI], { cwd });
  try {
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/bench/mcp`;
    await waitReady(`${base}/healthz`);
    const clients: Client[] = [];
    for (const token of tokens) {
      const auth = { authorization: `Bearer ${token}` };
      clients.push({ auth, sid: await openSession(url, auth) });
      await checkEchoCall2026(url, auth);
    }
    const one = clients[0]!;
    const legacy1 = () => toolsCallLoad(url, { ...one.auth, 'mcp-session-id': one.sid }, 1, DURATION);
    const modern1 = () => toolsCallLoad2026(url, one.auth, 1, DURATION);
    const legacy10 = () =>
      together(clients.map((c) => toolsCallLoad(url, { ...c.auth, 'mcp-session-id': c.sid }, 1, DURATION)));
    const modern10 = () => together(clients.map((c) => toolsCallLoad2026(url, c.auth, 1, DURATION)));
    // Warm-up: every user's child of both eras (a cold child's first thousands of calls cost more).
    await legacy1();
    await modern1();
    await legacy10();
    await modern10();
    const rows: Record<string, AutocannonResult[]> = { s1: [], m1: [], s10: [], m10: [] };
    const cpu: Record<string, Cpu> = {};
    const measured = async (k: string, run: () => Promise<AutocannonResult>) => {
      const before = treeCpuMs(gateway.pid);
      const client = process.cpuUsage();
      const r = await run();
      const used = process.cpuUsage(client);
      const after = treeCpuMs(gateway.pid);
      rows[k]!.push(r);
      if (before !== undefined && after !== undefined) {
        const c = (cpu[k] ??= { ms: 0, gatewayMs: 0, clientMs: 0, requests: 0 });
        c.ms += after.tree - before.tree;
        c.gatewayMs += after.root - before.root;
        c.clientMs += (used.user + used.system) / 1000;
        c.requests += r.requests.total;
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a drift in machine load favours neither.
      const pairs: Array<[string, () => Promise<AutocannonResult>]> =
        round % 2 === 0
          ? [
              ['s1', legacy1],
              ['m1', modern1],
              ['s10', legacy10],
              ['m10', modern10],
            ]
          : [
              ['m1', modern1],
              ['s1', legacy1],
              ['m10', modern10],
              ['s10', legacy10],
            ];
      for (const [k, run] of pairs) await measured(k, run);
    }
    const lean1 = await leanRounds(url, gateway.pid, [one], LEAN_PAIRS, LEAN_CALLS);
    const lean10 = await leanRounds(url, gateway.pid, clients, LEAN10_PAIRS, LEAN10_CALLS);
    const sdk = await sdkRounds(url, one.auth, gateway.pid, SDK_ROUNDS, SDK_CALLS, SDK_WARMUP);
    const parallel = await parallelRounds(url, one.auth, one.sid, PARALLEL_WIDTH, PARALLEL_ROUNDS);
    const first = await firstResult(url, one);
    report(rows, cpu, first);
    reportLean(
      `c=1 through a raw keep-alive socket (no load generator's cost; ${LEAN_PAIRS} alternating pairs of rounds of ${LEAN_CALLS} calls):`,
      lean1,
    );
    reportLean(
      `c=10 through raw keep-alive sockets (${USERS} users, a socket each; ${LEAN10_PAIRS} alternating pairs of rounds of ${LEAN10_CALLS} calls per user):`,
      lean10,
    );
    reportParallel(
      `one user, ${PARALLEL_WIDTH} calls at once to a tool that waits (${PARALLEL_ROUNDS} alternating rounds, medians):`,
      parallel,
    );
    reportSdk(
      `c=1 through the MCP SDK clients, their own cost included (${SDK_ROUNDS} rounds of ${SDK_CALLS} calls each, the order rotating):`,
      sdk,
    );
  } finally {
    await stopServer(gateway);
  }
}

/** CPU milliseconds over a kind's runs: gateway + children, the gateway alone, and the load generator (this process). */
interface Cpu {
  ms: number;
  gatewayMs: number;
  clientMs: number;
  requests: number;
}

function report(
  rows: Record<string, AutocannonResult[]>,
  cpu: Record<string, Cpu>,
  first: { legacy: number[]; modern: number[] },
) {
  const pick = (k: string) =>
    [...rows[k]!].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(ROUNDS / 2)]!;
  const ratio = (m: string, s: string) =>
    median(rows[m]!.map((r, i) => r.requests.average / rows[s]![i]!.requests.average));
  const rounds = (m: string, s: string) =>
    rows[m]!.map((r, i) => (r.requests.average / rows[s]![i]!.requests.average).toFixed(2)).join(' ');
  console.log(
    `tools/call (echo) through the gateway, fixture stdio server; ${ROUNDS} alternating rounds of ${DURATION}s, medians`,
  );
  console.log(`  2025 session          c=1  ${fmt(pick('s1'))}`);
  console.log(`  2026 stateless        c=1  ${fmt(pick('m1'))}`);
  console.log(`  2025 sessions, 10 users c=10 ${fmt(pick('s10'))}`);
  console.log(`  2026 stateless, 10 users c=10 ${fmt(pick('m10'))}`);
  console.log(
    `  ratio stateless/sessions: c=1 ${ratio('m1', 's1').toFixed(2)}, c=10 ${ratio('m10', 's10').toFixed(2)} (aim >= 1.0)`,
  );
  console.log(`  per-round ratios: c=1 ${rounds('m1', 's1')}; c=10 ${rounds('m10', 's10')}`);
  const us = (k: string, f: 'ms' | 'gatewayMs' | 'clientMs') =>
    cpu[k] ? (cpu[k][f] * 1000) / cpu[k].requests : NaN;
  const line = (c: string, s: string, m: string) =>
    `  ${c} 2025 ${us(s, 'ms').toFixed(0)} µs (gateway ${us(s, 'gatewayMs').toFixed(0)}), ` +
    `2026 ${us(m, 'ms').toFixed(0)} µs (gateway ${us(m, 'gatewayMs').toFixed(0)}); ` +
    `2026/2025 ${(us(m, 'ms') / us(s, 'ms')).toFixed(2)}`;
  if (cpu.s1 && cpu.m1 && cpu.s10 && cpu.m10) {
    console.log('CPU per request, gateway + its stdio children (/proc, all rounds):');
    console.log(line('c=1 ', 's1', 'm1'));
    console.log(line('c=10', 's10', 'm10'));
    const client = (c: string, s: string, m: string) =>
      `  ${c} 2025 ${us(s, 'clientMs').toFixed(0)} µs, 2026 ${us(m, 'clientMs').toFixed(0)} µs`;
    console.log('CPU per request of the load generator (autocannon, this process), on the same 2 cores:');
    console.log(client('c=1 ', 's1', 'm1'));
    console.log(client('c=10', 's10', 'm10'));
  }
  const ms = (xs: number[]) => `${median(xs).toFixed(1)} ms`;
  console.log(`new client to first result (median of ${FIRST_RESULT_SAMPLES}):`);
  console.log(
    `  2025: initialize + initialized + tools/call (3 requests, a child per session) ${ms(first.legacy)}`,
  );
  console.log(
    `  2026: tools/call alone (1 request, no Mcp-Session-Id in any answer)         ${ms(first.modern)}`,
  );
  console.log(
    `  ratio 2025/2026 first-result time: ${(median(first.legacy) / median(first.modern)).toFixed(1)}x`,
  );
}

await main();
