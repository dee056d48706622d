// bench/gateway-2026/alloc: what one `tools/call` allocates in the gateway process, 2025
// session against 2026-07-28 stateless, measured in alternating phases of PROBE_N calls (c=1).
// A preload in the gateway toggles V8's sampling heap profiler on SIGUSR2 with objects that
// scavenges and mark-compacts collect included (so garbage counts, which `--heap-prof` leaves
// out), and counts GCs and the process's CPU time per phase. Prints bytes per call, GCs and CPU
// µs per call per phase; each phase's `.heapprofile` (Chrome DevTools) goes to PROBE_DIR.
// Unlike throughput, bytes per call do not depend on what else runs on a shared machine.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
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
import { allocLine, allocPreloadArgs, allocProbe } from '../lib/alloc-probe.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { startServer, stopServer } from '../lib/servers.js';
import { openSession, sessionHeaders, waitReady, writeBenchGatewayConfig } from '../lib/session.js';

const N = Number(process.env.PROBE_N ?? 4000);
const PHASES = Number(process.env.PROBE_PHASES ?? 2);

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-alloc-'));
  const dir = path.resolve(process.env.PROBE_DIR ?? cwd);
  const port = await freePort();
  writeBenchGatewayConfig(cwd, port);
  gatewayCli(cwd, ['users', 'add', 'bench0', '--password', `p${randomBytes(18).toString('hex')}`]);
  const token = gatewayCli(cwd, ['token', '--user', 'bench0', '--service', 'bench']);
  const gateway = startServer([...allocPreloadArgs(cwd), GATEWAY_CLI], {
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
    const phase = allocProbe(gateway);
    console.log(`tools/call (echo) through the gateway, c=1, phases of ${N} calls; MCP_ACCEPT ${MCP_ACCEPT}`);
    for (let p = 0; p < PHASES; p++) {
      for (const era of p % 2 === 0 ? (['2025', '2026'] as const) : (['2026', '2025'] as const)) {
        const [s, r] = await phase(() => run(era, N));
        console.log(allocLine(era, s, N, r));
      }
    }
  } finally {
    await stopServer(gateway);
  }
}

await main();
