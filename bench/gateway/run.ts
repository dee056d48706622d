// bench/gateway: tools/call through the whole gateway (token check + routing +
// in-process stdio bridge) against straight to the stdio bridge
// (mcp-streamablehttp-proxy) wrapping the same fixture server, measured in one
// run and printed as a ratio (aim >= 0.85); plus /verify (ForwardAuth)
// requests per second with a valid token.
//
// Bounded: BENCH_ROUNDS alternating rounds (default 7) of BENCH_DURATION
// seconds per autocannon run (default 3), about 90 s in all. Single rounds on
// a shared 2-core machine spread by +-0.15 around the ratio, so the printed
// ratio is the median of the per-round ratios (each round's gateway run
// divided by the bridge run made next to it), and every round is printed.
// Every server listens on 127.0.0.1; every child is killed at the end.
// BENCH_PROF=<dir> writes a CPU profile of the gateway process into <dir>.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixtureMcpServerPath, freePort } from '@mcp-gateway/testkit';
import { startServer, stopServer } from '../lib/servers.js';
import { autocannon, toolsCallLoad, type AutocannonResult, median } from '../lib/autocannon.js';
import { openSession, waitReady, writeBenchGatewayConfig } from '../lib/session.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const here = import.meta.dirname;
const node = process.execPath;
const gatewayCli = path.join(here, '../../packages/gateway-kit/dist/cli.js');
const bridgeCli = path.join(here, '../../packages/streamablehttp-proxy/dist/cli.js');

const load = (url: string, headers: Record<string, string>, connections: number): Promise<AutocannonResult> =>
  toolsCallLoad(url, headers, connections, DURATION);

const fmt = (r: AutocannonResult) =>
  `${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}, errors ${r.errors})` : ''}`;

async function main() {
  // Both servers run side by side and are measured in alternation, so load from
  // anything else on the machine hits both alike; the ratio is the median of the rounds.
  const bridgePort = await freePort();
  const bridge = startServer([
    bridgeCli,
    '--port',
    String(bridgePort),
    '--log-level',
    'error',
    '--max-sessions',
    '200',
    '--',
    node,
    fixtureMcpServerPath,
  ]);
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-gateway-'));
  const port = await freePort();
  writeBenchGatewayConfig(cwd, port);

  // BENCH_PROF=<dir>: the gateway writes a V8 CPU profile there when it stops (NODE_OPTIONS cannot carry --cpu-prof).
  const prof = process.env.BENCH_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROF)}`]
    : [];
  const gateway = startServer([...prof, gatewayCli], { cwd });
  try {
    const direct = `http://127.0.0.1:${bridgePort}/mcp`;
    const base = `http://127.0.0.1:${port}`;
    const via = `${base}/bench/mcp`;
    await waitReady(`http://127.0.0.1:${bridgePort}/healthz`);
    await waitReady(`${base}/healthz`);
    const tok = spawnSync(node, [gatewayCli, 'token', '--user', 'admin', '--service', 'bench'], {
      cwd,
      encoding: 'utf8',
    });
    if (tok.status !== 0) throw new Error(`token: ${tok.stderr}`);
    const auth = { authorization: `Bearer ${tok.stdout.trim()}` };
    const directHeaders = { 'mcp-session-id': await openSession(direct, {}) };
    const viaHeaders = { ...auth, 'mcp-session-id': await openSession(via, auth) };
    await load(direct, directHeaders, 1); // warm-up
    await load(via, viaHeaders, 1);
    const rows: Record<string, AutocannonResult[]> = { d1: [], g1: [], d10: [], g10: [] };
    for (let round = 0; round < ROUNDS; round++) {
      rows.d1!.push(await load(direct, directHeaders, 1));
      rows.g1!.push(await load(via, viaHeaders, 1));
      rows.d10!.push(await load(direct, directHeaders, 10));
      rows.g10!.push(await load(via, viaHeaders, 10));
    }
    const verifyHeaders = {
      ...auth,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': `127.0.0.1:${port}`,
      'x-forwarded-uri': '/bench/mcp',
    };
    const probe = await fetch(`${base}/verify`, { headers: verifyHeaders });
    if (probe.status !== 200) throw new Error(`/verify answered ${probe.status}: ${await probe.text()}`);
    const verify = await autocannon({
      url: `${base}/verify`,
      method: 'GET',
      connections: 10,
      duration: DURATION,
      headers: verifyHeaders,
    });

    const pick = (k: string) =>
      [...rows[k]!].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(ROUNDS / 2)]!;
    const ratio = (g: string, d: string) =>
      median(rows[g]!.map((r, i) => r.requests.average / rows[d]![i]!.requests.average));
    console.log(
      `tools/call (echo), one session, fixture stdio server; ${ROUNDS} alternating rounds of ${DURATION}s, medians`,
    );
    console.log(`  bridge alone         c=1  ${fmt(pick('d1'))}`);
    console.log(`  through the gateway  c=1  ${fmt(pick('g1'))}`);
    console.log(`  bridge alone         c=10 ${fmt(pick('d10'))}`);
    console.log(`  through the gateway  c=10 ${fmt(pick('g10'))}`);
    console.log(
      `  ratio gateway/bridge: c=1 ${ratio('g1', 'd1').toFixed(2)}, c=10 ${ratio('g10', 'd10').toFixed(2)} (aim >= 0.85)`,
    );
    const rounds = (g: string, d: string) =>
      rows[g]!.map((r, i) => (r.requests.average / rows[d]![i]!.requests.average).toFixed(2)).join(' ');
    console.log(`  per-round ratios: c=1 ${rounds('g1', 'd1')}; c=10 ${rounds('g10', 'd10')}`);
    console.log(`/verify (ForwardAuth, valid token, c=10): ${fmt(verify)}`);
  } finally {
    await Promise.all([stopServer(bridge), stopServer(gateway)]);
  }
}

await main();
