// bench/policy-gateway: what per-tool policy adds to a `tools/call` through the
// gateway, end to end: one gateway (the CLI, its own process) with two stdio
// services running the testkit fixture, `plain` without a policy and `guarded`
// with a typical one (hide, deny and allow rules by user, group and client, and
// a CEL argument condition that the echo call passes). Alternating rounds of echo
// calls at c=1, 2025 sessions and 2026-07-28 stateless requests, each round's
// guarded run divided by the plain run next to it; printed: the median ratio
// (guarded/plain throughput), the µs a policy adds per call (from the median
// per-round latency difference), and the gateway's CPU µs per call for both.
//
// Bounded: BENCH_ROUNDS rounds (default 5) of BENCH_DURATION seconds per run
// (default 3). Everything listens on 127.0.0.1; the gateway is stopped at the end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixtureMcpServerPath, freePort, request2026 } from '@mcp-gateway/testkit';
import { median, toolsCallLoad, toolsCallLoad2026, type AutocannonResult } from '../lib/autocannon.js';
import { treeCpuMs } from '../lib/proc.js';
import { startServer, stopServer } from '../lib/servers.js';
import { GATEWAY_CLI, gatewayCli } from '../lib/cli.js';
import { openSession, waitReady } from '../lib/session.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const fixture = (name: string) => [
  `  ${name}:`,
  '    type: stdio',
  `    command: ${JSON.stringify(process.execPath)}`,
  `    args: [${JSON.stringify(fixtureMcpServerPath)}]`,
  '    maxSessions: 50',
];

/** The policy of `guarded`: echo passes its condition after the hide and deny rules are looked at. */
const POLICY = {
  services: {
    guarded: {
      default: 'deny',
      rules: [
        { effect: 'hide', tools: ['crash', 'grandchild'], groups: ['contractors'] },
        { effect: 'deny', tools: ['record'], clients: ['ci-bot'], reason: 'CI may not record' },
        { effect: 'deny', tools: ['*'], when: 'has(args.path) && !pathWithin(args.path, "/srv")' },
        { effect: 'deny', users: ['local:blocked'] },
        { effect: 'allow', readOnly: true, groups: ['readers'] },
        { effect: 'allow', tools: ['echo'], when: 'args.text.startsWith("hello") && size(args.text) < 100' },
        { effect: 'allow', tools: ['add'], users: ['local:admin'] },
      ],
    },
  },
};

/** Config, one user and their tokens for both services. */
function prepare(cwd: string, port: number): Record<'plain' | 'guarded', string> {
  writeFileSync(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'logging: { level: warn }',
      'services:',
      ...fixture('plain'),
      ...fixture('guarded'),
      `policies: ${JSON.stringify(POLICY)}`,
      '',
    ].join('\n'),
  );
  gatewayCli(cwd, ['users', 'add', 'bench', '--password', `p${randomBytes(18).toString('hex')}`]);
  return {
    plain: gatewayCli(cwd, ['token', '--user', 'bench', '--service', 'plain']),
    guarded: gatewayCli(cwd, ['token', '--user', 'bench', '--service', 'guarded']),
  };
}

/** The policy is in force: echo goes through, a call no rule allows gets -32010. */
async function checkPolicy(url: string, auth: Record<string, string>): Promise<void> {
  const call = async (name: string, args: object) => {
    const { headers, body } = request2026('tools/call', { name, arguments: args });
    const res = await fetch(url, { method: 'POST', headers: { ...headers, ...auth }, body });
    return res.text();
  };
  if (!(await call('echo', { text: 'hello bench' })).includes('hello bench')) throw new Error('echo refused');
  if (!(await call('pid', {})).includes('-32010')) throw new Error('the policy is not in force');
}

type Load = () => Promise<AutocannonResult>;
interface Side {
  runs: AutocannonResult[];
  cpuMs: number;
  requests: number;
}

async function main() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-policy-gateway-'));
  const port = await freePort();
  const tokens = prepare(cwd, port);
  const gateway = startServer([GATEWAY_CLI], { cwd });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/healthz`);
    const loads: Record<string, Load> = {};
    for (const s of ['plain', 'guarded'] as const) {
      const url = `${base}/${s}/mcp`;
      const auth = { authorization: `Bearer ${tokens[s]}` };
      const sid = await openSession(url, auth);
      if (s === 'guarded') await checkPolicy(url, auth);
      loads[`2025 ${s}`] = () => toolsCallLoad(url, { ...auth, 'mcp-session-id': sid }, 1, DURATION);
      loads[`2026 ${s}`] = () => toolsCallLoad2026(url, auth, 1, DURATION);
    }
    for (const load of Object.values(loads)) await load(); // warm-up
    const sides: Record<string, Side> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const era of ['2025', '2026']) {
        const order = round % 2 === 0 ? ['plain', 'guarded'] : ['guarded', 'plain'];
        for (const s of order) {
          const k = `${era} ${s}`;
          const before = treeCpuMs(gateway.pid);
          const r = await loads[k]!();
          const after = treeCpuMs(gateway.pid);
          const side = (sides[k] ??= { runs: [], cpuMs: 0, requests: 0 });
          side.runs.push(r);
          if (before && after) {
            side.cpuMs += after.root - before.root;
            side.requests += r.requests.total;
          }
        }
      }
    }
    report(sides);
  } finally {
    await stopServer(gateway);
  }
}

function report(sides: Record<string, Side>) {
  console.log(`tools/call (echo) through the gateway at c=1, ${ROUNDS} alternating rounds of ${DURATION}s`);
  for (const era of ['2025', '2026']) {
    const plain = sides[`${era} plain`]!;
    const guarded = sides[`${era} guarded`]!;
    const ratios = guarded.runs.map((r, i) => r.requests.average / plain.runs[i]!.requests.average);
    // At c=1 one request at a time: the time per call is 1 / throughput.
    const added = guarded.runs.map(
      (r, i) => 1e6 / r.requests.average - 1e6 / plain.runs[i]!.requests.average,
    );
    const rps = (s: Side) => median(s.runs.map((r) => r.requests.average)).toFixed(0);
    const cpu = (s: Side) => (s.requests ? ((s.cpuMs * 1000) / s.requests).toFixed(0) : 'n/a');
    console.log(
      `  ${era === '2025' ? '2025 session  ' : '2026 stateless'}  plain ${rps(plain)} req/s, guarded ${rps(guarded)} req/s; ` +
        `ratio guarded/plain ${median(ratios).toFixed(2)} (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')}); ` +
        `policy adds ${median(added).toFixed(0)} µs per call; gateway CPU per call plain ${cpu(plain)} µs, guarded ${cpu(guarded)} µs`,
    );
  }
}

await main();
