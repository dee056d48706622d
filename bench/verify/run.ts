// bench/verify: ForwardAuth /verify of the authorization server against a bare
// node:http server doing the same jose.jwtVerify with the same key, measured
// with autocannon in one run (servers in a child process, load from this one),
// plus in-process verifyAccessToken ops/s against raw jwtVerify.
//
// Bounded: BENCH_DURATION seconds per autocannon run (default 5), 20
// connections, loopback only. Ratio ≥ 1.0 means /verify (revocation check
// included) is at least as fast as the bare jose server.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  createAuthorizationServer,
  hashPassword,
  localIdentityProvider,
  silentLogger,
} from '@mcp-gateway/oauth-dynamicclient';
import { autocannon, type AutocannonResult } from '../lib/autocannon.js';
import { dpopComparison, type DpopBenchInfo } from './dpop.js';
import { tokenThroughFlow } from './flow.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);

// BENCH_CPU_PROF=<dir>: profile the servers (node --cpu-prof), e.g. to find what the DPoP path spends.
const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
const child = spawn(
  process.execPath,
  [...prof, '--import', 'tsx', path.join(import.meta.dirname, 'servers.ts')],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const line = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', resolve);
  child.once('exit', (code) => reject(new Error(`servers exited with ${code}`)));
});
const info = JSON.parse(line) as DpopBenchInfo & {
  verifyUrl: string;
  directUrl: string;
  bareUrl: string;
  token: string;
  resource: string;
  host: string;
};

async function load(name: string, url: string): Promise<AutocannonResult> {
  const headers = {
    authorization: `Bearer ${info.token}`,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': info.host,
    'x-forwarded-uri': '/mcp',
  };
  await autocannon({ url, connections: 20, duration: 1, headers }); // warm-up
  const r = await autocannon({ url, connections: 20, duration: DURATION, headers });
  if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
}

const only = process.env.BENCH_VERIFY_ONLY; // `dpop`: just the DPoP case
try {
  if (only === 'dpop') await dpopComparison(info, child.pid);
  else await httpComparison();
} finally {
  child.kill('SIGTERM');
}
if (only === 'dpop') process.exit(0);

async function httpComparison(): Promise<void> {
  // Interleave the targets twice so a noisy neighbour hurts all of them alike; keep each one's best run.
  const best: Record<string, AutocannonResult> = {};
  const targets: [string, string][] = [
    ['AS /verify, forwardAuthNodeListener', info.directUrl],
    ['AS /verify, fetch route via toNodeListener', info.verifyUrl],
    ['bare node:http + jose.jwtVerify', info.bareUrl],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [name, url] of targets) {
      const r = await load(name, url);
      if (!best[name] || r.requests.average > best[name].requests.average) best[name] = r;
    }
  }
  console.log(
    '\nHTTP (autocannon, 20 connections, %ds per run, best of 2; revocation checked on every request)',
    DURATION,
  );
  for (const [name] of targets) {
    const r = best[name]!;
    console.log(
      '  %s  %s req/s  p50 %d ms  p99 %d ms',
      name.padEnd(44),
      r.requests.average.toFixed(0).padStart(7),
      r.latency.p50,
      r.latency.p99,
    );
  }
  const bare = best[targets[2]![0]]!.requests.average;
  console.log(
    '  ratio forwardAuthNodeListener ÷ bare: %s',
    (best[targets[0]![0]]!.requests.average / bare).toFixed(2),
  );
  console.log(
    '  ratio fetch route ÷ bare:             %s',
    (best[targets[1]![0]]!.requests.average / bare).toFixed(2),
  );
  await dpopComparison(info, child.pid);
}

// In-process: verifyAccessToken (cached after the first call, revocation checked each time) vs raw jwtVerify.
const issuer = 'http://127.0.0.1:1';
const resource = `${issuer}/mcp`;
const as = createAuthorizationServer({
  issuer,
  resources: [{ resource, scopes: ['mcp'], default: true }],
  logger: silentLogger,
  identityProvider: localIdentityProvider({
    users: [{ username: 'b', passwordHash: await hashPassword('b', { N: 1024, r: 8, p: 1 }) }],
  }),
});
await as.ready();
const opsPerSecond = async (fn: () => Promise<unknown>, ms = 2000) => {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  return (n / ms) * 1000;
};
const token = await issueInProcess();
const jwks = createLocalJWKSet(await as.keys.jwks());
const ourOps = await opsPerSecond(() => as.verifyAccessToken(token, { resource, scopes: ['mcp'] }));
const rawOps = await opsPerSecond(() =>
  jwtVerify(token, jwks, { issuer, audience: resource, typ: 'at+jwt', algorithms: ['ES256'] }),
);
console.log('\nIn-process (2 s each)');
console.log(
  '  %s  %s ops/s',
  'verifyAccessToken (cached + revocation)'.padEnd(40),
  ourOps.toFixed(0).padStart(8),
);
console.log('  %s  %s ops/s', 'jose.jwtVerify'.padEnd(40), rawOps.toFixed(0).padStart(8));
console.log('  ratio: %s', (ourOps / rawOps).toFixed(2));
await as.close();

/** A token from this server's own flow, driven through its fetch handler (no sockets). */
function issueInProcess(): Promise<string> {
  return tokenThroughFlow({
    as,
    issuer,
    send: (url, init) => as.fetch(new Request(url, init)),
    username: 'b',
    password: 'b',
  });
}
