// bench/verify, DPoP case (issue 19): ForwardAuth /verify of a DPoP-bound
// token with a fresh proof per request (the proof's jti recorded in the
// authorization server's replay cache) against the bare node:http +
// jose.jwtVerify Bearer server, in the same run, alternating rounds.
//
// Proofs are signed before each round (the load generator's work never
// overlaps a measurement), and both sides get their headers through the same
// autocannon setupRequest hook, so neither pays for the other's client work.
// Each round runs the same number of requests against both servers; the ratio
// printed is the median of the per-round ratios.
import { performance } from 'node:perf_hooks';
import { importJWK, SignJWT, type JWK } from 'jose';
import { autocannon, median, type AutocannonResult } from '../lib/autocannon.js';
import { treeCpuMs } from '../lib/proc.js';

/** What servers.ts prints that this case needs. */
export interface DpopBenchInfo {
  directUrl: string;
  bareUrl: string;
  token: string;
  dpopToken: string;
  dpopPrivateJwk: JWK;
  dpopPublicJwk: JWK;
  host: string;
}

const ROUNDS = Number(process.env.BENCH_DPOP_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_DPOP_REQUESTS ?? 20_000);
const CONNECTIONS = 20;

/** `count` proofs for `GET htu` bound to `token` (RFC 9449 §4.2), each with its own jti. */
async function proofs(info: DpopBenchInfo, htu: string, count: number): Promise<string[]> {
  const key = await importJWK(info.dpopPrivateJwk, 'ES256');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(info.dpopToken));
  const ath = Buffer.from(digest).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: info.dpopPublicJwk };
  const out: string[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      await new SignJWT({
        htm: 'GET',
        htu,
        jti: `${iat}-${i}-${Math.random().toString(36).slice(2)}`,
        iat,
        ath,
      })
        .setProtectedHeader(header)
        .sign(key),
    );
  return out;
}

type Measured = AutocannonResult & { perSecond: number };

/** `amount` requests at `url`; `headers(i)` gives request i its headers. */
async function run(
  url: string,
  amount: number,
  headers: (i: number) => Record<string, string>,
): Promise<Measured> {
  let i = 0;
  const start = performance.now();
  let last = start;
  const r: AutocannonResult = await autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        setupRequest: (req: Record<string, unknown>) => ({ ...req, headers: headers(i++) }),
        onResponse: () => void (last = performance.now()),
      },
    ],
  });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  // autocannon's average is per whole second, and a fixed amount ends on its next one-second tick:
  // the rate is the requests over the time to the last response, by the wall clock.
  return { ...r, perSecond: (r.requests.total / (last - start)) * 1000 };
}

/** CPU milliseconds of the servers' process (both servers live in it; one side is loaded at a time). */
const cpuOf = (pid: number | undefined): number => (pid === undefined ? 0 : (treeCpuMs(pid)?.root ?? 0));

/**
 * Runs the DPoP case and prints each round and the median ratio, and, with
 * `serverPid`, the servers' CPU per request of each side: the load generator
 * shares this machine's cores, so throughput can be its limit rather than the
 * servers'; CPU per request is what each server needs of a core.
 */
export async function dpopComparison(info: DpopBenchInfo, serverPid?: number): Promise<void> {
  const cpu = { dpop: 0, bare: 0, requests: 0 };
  const timed = async (side: 'dpop' | 'bare', load: () => Promise<Measured>): Promise<Measured> => {
    const before = cpuOf(serverPid);
    const r = await load();
    cpu[side] += cpuOf(serverPid) - before;
    return r;
  };
  const forwarded = {
    'x-forwarded-proto': 'http',
    'x-forwarded-host': info.host,
    'x-forwarded-uri': '/mcp',
    'x-forwarded-method': 'GET',
  };
  const htu = `http://${info.host}/mcp`;
  const bearer = { authorization: `Bearer ${info.token}`, ...forwarded };
  const dpopAuth = `DPoP ${info.dpopToken}`;
  const ratios: number[] = [];
  console.log(
    '\nDPoP (autocannon, %d connections, %d requests per side per round, fresh proof per request, replay cache on)',
    CONNECTIONS,
    REQUESTS,
  );
  // Warm-up of both sides (JIT, key import caches, keep-alive sockets).
  const warm = await proofs(info, htu, 2000);
  await run(info.bareUrl, 2000, () => bearer);
  await run(info.directUrl, 2000, (i) => ({ authorization: dpopAuth, dpop: warm[i]!, ...forwarded }));
  for (let round = 0; round < ROUNDS; round++) {
    const signed = await proofs(info, htu, REQUESTS);
    const dpopSide = () =>
      run(info.directUrl, REQUESTS, (i) => ({ authorization: dpopAuth, dpop: signed[i]!, ...forwarded }));
    const bareSide = () => run(info.bareUrl, REQUESTS, () => bearer);
    // Alternate which side goes first so drift on a shared machine hurts both alike.
    let d: Measured;
    let b: Measured;
    if (round % 2 === 0) {
      d = await timed('dpop', dpopSide);
      b = await timed('bare', bareSide);
    } else {
      b = await timed('bare', bareSide);
      d = await timed('dpop', dpopSide);
    }
    cpu.requests += REQUESTS;
    const ratio = d.perSecond / b.perSecond;
    ratios.push(ratio);
    console.log(
      '  round %d: /verify DPoP %s req/s (p50 %d ms, p99 %d ms)  bare Bearer %s req/s (p50 %d ms, p99 %d ms)  ratio %s',
      round + 1,
      d.perSecond.toFixed(0).padStart(6),
      d.latency.p50,
      d.latency.p99,
      b.perSecond.toFixed(0).padStart(6),
      b.latency.p50,
      b.latency.p99,
      ratio.toFixed(2),
    );
  }
  console.log(
    '  ratio /verify DPoP ÷ bare Bearer (median of %d rounds): %s (aim ≥ 1.5)',
    ROUNDS,
    median(ratios).toFixed(2),
  );
  if (serverPid === undefined || cpu.requests === 0) return;
  const perRequest = (ms: number) => (ms * 1000) / cpu.requests;
  console.log(
    "  servers' CPU per request (/proc, all rounds): /verify DPoP %s µs, bare Bearer %s µs; bare ÷ DPoP %s (requests per core)",
    perRequest(cpu.dpop).toFixed(0),
    perRequest(cpu.bare).toFixed(0),
    (cpu.bare / cpu.dpop).toFixed(2),
  );
}
