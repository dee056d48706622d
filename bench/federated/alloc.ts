// bench/federated/alloc: what one echo `tools/call` allocates in the gateway process through
// the federated endpoint `/fed` against the same call straight to the service, per era
// (kinds as in federated/run.ts: f26, d26, f25, d25), in alternating phases of PROBE_N (4000)
// calls at c=1 (lib/alloc-probe.ts). Prints bytes, GCs and CPU µs per call per phase; each
// phase's `.heapprofile` goes to PROBE_DIR. PROBE_ONLY=f26,d26 measures only those kinds.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@mcp-gateway/testkit';
import {
  autocannon,
  checkEchoCall2026,
  echoCall,
  echoCall2026,
  MODERN_CALL_HEADERS,
} from '../lib/autocannon.js';
import { allocLine, allocPreloadArgs, allocProbe } from '../lib/alloc-probe.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { startServer, stopServer } from '../lib/servers.js';
import { openSession, sessionHeaders, waitReady, writeBenchGatewayConfig } from '../lib/session.js';

const N = Number(process.env.PROBE_N ?? 4000);
const PHASES = Number(process.env.PROBE_PHASES ?? 2);
const ONLY = process.env.PROBE_ONLY?.split(',');

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-fed-alloc-'));
  const dir = path.resolve(process.env.PROBE_DIR ?? cwd);
  const port = await freePort();
  writeBenchGatewayConfig(cwd, port);
  appendFileSync(path.join(cwd, 'mcp-gateway.yaml'), 'federated:\n  - path: /fed\n    services: [bench]\n');
  gatewayCli(cwd, ['users', 'add', 'bench', '--password', `p${randomBytes(18).toString('hex')}`]);
  const token = (service: string) => ({
    authorization: `Bearer ${gatewayCli(cwd, ['token', '--user', 'bench', '--service', service])}`,
  });
  const direct = token('bench');
  const fed = token('/fed');
  const gateway = startServer([...allocPreloadArgs(cwd), GATEWAY_CLI], { cwd, env: { PROBE_DIR: dir } });
  const base = `http://127.0.0.1:${port}`;
  const urls = { direct: `${base}/bench/mcp`, fed: `${base}/fed` };
  try {
    await waitReady(`${base}/healthz`);
    await checkEchoCall2026(urls.direct, direct);
    await checkEchoCall2026(urls.fed, fed);
    const sids = { direct: await openSession(urls.direct, direct), fed: await openSession(urls.fed, fed) };
    let id = 1;
    const run = (kind: string, amount: number) => {
      const side = kind.startsWith('f') ? 'fed' : 'direct';
      const auth = side === 'fed' ? fed : direct;
      const modern = kind.endsWith('26');
      return autocannon({
        url: urls[side],
        method: 'POST',
        connections: 1,
        amount,
        headers: modern ? { ...MODERN_CALL_HEADERS, ...auth } : sessionHeaders(sids[side], auth),
        requests: [
          {
            setupRequest: (r: Record<string, unknown>) => ({
              ...r,
              body: modern ? echoCall2026(id++) : echoCall(id++),
            }),
          },
        ],
      });
    };
    const kinds = ['f26', 'd26', 'f25', 'd25'].filter((k) => !ONLY || ONLY.includes(k));
    for (const k of kinds) await run(k, 3000); // warm-up
    const phase = allocProbe(gateway);
    console.log(`tools/call (echo), federated (f) and direct (d), c=1, phases of ${N} calls`);
    for (let p = 0; p < PHASES; p++) {
      for (const k of p % 2 === 0 ? kinds : [...kinds].reverse()) {
        const [s, r] = await phase(() => run(k, N));
        console.log(allocLine(k, s, N, r));
      }
    }
  } finally {
    await stopServer(gateway);
  }
}

await main();
