// bench/bridge: our stdio bridge against supergateway 4 (--stateful, one
// child per session) and punkpeye's mcp-proxy, all wrapping the same fixture
// stdio server, plus the MCP SDK's in-process Streamable HTTP server as the
// no-bridge reference. Measures tools/call req/s at concurrency 1 and 10 with
// p50/p99 (autocannon), session-open latency (our bridge with and without a
// warm pool), and server memory per session (children excluded: RSS of the
// server process only).
//
// Bounded: BENCH_ROUNDS (default 3) rotations of BENCH_DURATION-second
// autocannon runs (default 3) per server and concurrency, best run kept;
// BENCH_SESSIONS sessions for open latency and memory (default 12).
// BENCH_ONLY=<comma list of target name prefixes, case-insensitive> runs a
// subset while iterating (e.g. `mcp-gateway,supergateway`, or
// `mcp-gateway bridge --pool` for the warm pool alone); default: everything.
// Every server listens on 127.0.0.1; every child is killed at the end.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fixtureMcpServerPath, freePort, type SpawnedCli } from '@mcp-gateway/testkit';
import { startServer, stopServer } from '../lib/servers.js';
import {
  INITIALIZE_BODY,
  MCP_ACCEPT as ACCEPT,
  checkEchoCall,
  toolsCallLoad,
  type AutocannonResult,
  median,
} from '../lib/autocannon.js';

const require = createRequire(import.meta.url);

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 12);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((p) => p.trim().toLowerCase())
  .filter(Boolean);
/** True when `name` is selected by BENCH_ONLY (everything when it is unset). */
const selected = (name: string) => ONLY.length === 0 || ONLY.some((p) => name.toLowerCase().startsWith(p));
const WARM_POOL_NAME = 'mcp-gateway bridge --pool-size 4';
const here = import.meta.dirname;
const node = process.execPath;
const ourCli = path.join(here, '../../packages/streamablehttp-proxy/dist/cli.js');
const binOf = (pkg: string, bin: string) =>
  path.join(path.dirname(require.resolve(`${pkg}/package.json`)), bin);
const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;

interface Target {
  name: string;
  start(port: number): string[];
}

const targets: Target[] = [
  {
    name: 'mcp-gateway bridge',
    start: (port) => [
      ourCli,
      '--port',
      String(port),
      '--log-level',
      'error',
      '--max-sessions',
      '200',
      '--',
      node,
      fixtureMcpServerPath,
    ],
  },
  {
    name: `supergateway ${versionOf('supergateway')}`,
    start: (port) => [
      binOf('supergateway', 'dist/index.js'),
      '--stdio',
      `${node} ${fixtureMcpServerPath}`,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
    ],
  },
  {
    name: `mcp-proxy ${versionOf('mcp-proxy')}`,
    start: (port) => [
      binOf('mcp-proxy', 'dist/bin/mcp-proxy.mjs'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--server',
      'stream',
      '--',
      node,
      fixtureMcpServerPath,
    ],
  },
  {
    name: 'SDK in-process (reference)',
    start: (port) => ['--import', 'tsx', path.join(here, 'sdk-server.ts'), String(port)],
  },
];

async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}

/**
 * One POST over a kept-alive node:http connection, answered in full. Session
 * opens are timed with node:http rather than fetch: the number is the
 * server's open latency, with as little client-side work in it as possible
 * (the same client for every server).
 */
const openAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; sid: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: openAgent,
        headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const sid = res.headers['mcp-session-id'];
          resolve({ status: res.statusCode ?? 0, sid: typeof sid === 'string' ? sid : undefined, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** initialize + notifications/initialized; returns the session id and the time initialize took. */
async function openSession(url: string): Promise<{ sid: string; ms: number }> {
  const body = INITIALIZE_BODY;
  const t = performance.now();
  const res = await post(url, body);
  const ms = performance.now() - t;
  const sid = res.sid;
  if (res.status !== 200 || !sid || !res.text.includes('protocolVersion'))
    throw new Error(`initialize failed: ${res.status} ${res.text}`);
  await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
    'mcp-session-id': sid,
    'mcp-protocol-version': '2025-06-18',
  });
  return { sid, ms };
}

const load = (url: string, sid: string, connections: number): Promise<AutocannonResult> =>
  toolsCallLoad(url, { 'mcp-session-id': sid }, connections, DURATION);

/** One tools/call, checked: the load runs measure real answers, not errors. */
const checkAnswer = (url: string, sid: string): Promise<void> =>
  checkEchoCall(url, { 'mcp-session-id': sid });

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Row {
  name: string;
  c1: AutocannonResult;
  c10: AutocannonResult;
  openMs: number;
  memKiB: number;
}

interface Running {
  target: Target;
  server: SpawnedCli;
  url: string;
  sid: string;
  c1?: AutocannonResult;
  c10?: AutocannonResult;
}

async function startTarget(target: Target): Promise<Running> {
  const port = await freePort();
  const server = startServer(target.start(port));
  await waitListening(port);
  const url = `http://127.0.0.1:${port}/mcp`;
  const { sid } = await openSession(url);
  await checkAnswer(url, sid);
  await load(url, sid, 1); // warm-up, not reported
  return { target, server, url, sid };
}

const better = (a: AutocannonResult | undefined, b: AutocannonResult) =>
  !a || b.requests.average > a.requests.average ? b : a;

/**
 * Every server runs at once and the load runs rotate between them, ROUNDS
 * times; each keeps its best run. Other work on the machine then slows every
 * server alike instead of whichever happened to be measured at the time.
 */
async function measureAll(running: Running[]): Promise<Row[]> {
  for (const connections of [1, 10]) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of running) {
        const res = await load(r.url, r.sid, connections);
        if (connections === 1) r.c1 = better(r.c1, res);
        else r.c10 = better(r.c10, res);
      }
    }
  }
  const rows: Row[] = [];
  for (const r of running) {
    const before = rssKiB(r.server.pid);
    const opens: number[] = [];
    for (let i = 0; i < SESSIONS; i++) opens.push((await openSession(r.url)).ms);
    const after = rssKiB(r.server.pid);
    rows.push({
      name: r.target.name,
      c1: r.c1!,
      c10: r.c10!,
      openMs: median(opens),
      memKiB: (after - before) / SESSIONS,
    });
  }
  return rows;
}

/** Session-open latency of our bridge with a warm pool: each open finds a pre-spawned child. */
async function measureWarmPool(): Promise<number> {
  const port = await freePort();
  const pool = 4;
  const server = startServer([
    ourCli,
    '--port',
    String(port),
    '--log-level',
    'error',
    '--pool-size',
    String(pool),
    '--',
    node,
    fixtureMcpServerPath,
  ]);
  try {
    await waitListening(port);
    const base = `http://127.0.0.1:${port}`;
    const pooled = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(/^mcp_bridge_pool_children_warm (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const opens: number[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      // Readiness, not a sleep: wait until the pool holds warm (loaded) children again, then open.
      const deadline = Date.now() + 20_000;
      while ((await pooled()) < pool && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      opens.push((await openSession(`${base}/mcp`)).ms);
    }
    const sorted = [...opens].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    console.log(
      `  warm pool opens: min ${fmt(sorted[0]!, 1)}, p50 ${fmt(at(0.5), 1)}, p90 ${fmt(at(0.9), 1)}, max ${fmt(sorted.at(-1)!, 1)} ms`,
    );
    return median(opens);
  } finally {
    await stopServer(server);
  }
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  console.log(
    `bench/bridge: best of ${ROUNDS} rotating ${DURATION}s load runs, ${SESSIONS} sessions, node ${process.version}, loopback only${ONLY.length ? `, BENCH_ONLY=${ONLY.join(',')}` : ''}`,
  );
  const running: Running[] = [];
  for (const t of targets.filter((t) => selected(t.name))) {
    try {
      running.push(await startTarget(t));
    } catch (err) {
      console.log(`  ${t.name}: failed to start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let rows: Row[];
  try {
    rows = await measureAll(running);
  } finally {
    await Promise.all(running.map((r) => stopServer(r.server)));
  }
  for (const r of rows)
    console.log(`  measured ${r.name}: ${fmt(r.c1.requests.average)} / ${fmt(r.c10.requests.average)} req/s`);
  const warmMs = selected(WARM_POOL_NAME) ? await measureWarmPool() : undefined;
  const ours = rows.find((r) => r.name === 'mcp-gateway bridge');
  console.log(
    '\n| server | req/s c=1 | p50/p99 ms c=1 | req/s c=10 | p50/p99 ms c=10 | errors | session open p50 ms | memory/session KiB | ours ÷ this (c=1, c=10) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const errs = r.c1.non2xx + r.c1.errors + r.c10.non2xx + r.c10.errors;
    const ratio = ours
      ? `${fmt(ours.c1.requests.average / r.c1.requests.average, 2)}×, ${fmt(ours.c10.requests.average / r.c10.requests.average, 2)}×`
      : 'n/a';
    console.log(
      `| ${r.name} | ${fmt(r.c1.requests.average)} | ${r.c1.latency.p50}/${r.c1.latency.p99} | ${fmt(r.c10.requests.average)} | ${r.c10.latency.p50}/${r.c10.latency.p99} | ${errs} | ${fmt(r.openMs, 1)} | ${r.memKiB < 0 ? 'n/a (GC ran)' : fmt(r.memKiB)} | ${ratio} |`,
    );
  }
  if (warmMs !== undefined) console.log(`| ${WARM_POOL_NAME} | | | | | | ${fmt(warmMs, 1)} | | |`);
  console.log(
    '\nSession open = initialize answered (cold: includes the child process start). Memory = RSS growth of the server process per open session, children excluded.',
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
