// bench/store: registrations and full authorization-code flows per second
// through the real gateway (CLI child process) with 100, 10,000 and 100,000
// stored clients, on the embedded store (LMDB, the default), the Redis store
// and the old file store (store.json), in one run. The point is the shape:
// throughput at 100,000 entries against throughput at 100 on the same store,
// and the embedded store against Redis at the same size.
//
// Entries are pre-filled through each store's API directly (client records
// with the 1-day TTL of a never-used client, plus the clients index), then
// the gateway starts on them. Load: BENCH_CONCURRENCY workers (default 4),
// BENCH_DURATION seconds per measurement (default 5), each request from its
// own X-Forwarded-For (the gateway trusts the proxy header here) so per-source
// rate limits count but do not stop the load. Redis runs with its append-only
// file (fsync every second). Loopback only; every run is bounded in time.
//
// Every gateway is up at once and BENCH_ROUNDS rounds (default 3) alternate
// over them, so a busy moment of a shared machine hits all alike; ratios are
// medians of per-round ratios. BENCH_SIZES=100,10000,100000 and
// BENCH_STORES=embedded,embedded-flush,redis,file pick the matrix
// (`embedded-flush`: the embedded store with `durability: flush`, an fsync
// per commit); BENCH_FILE_MAX (default
// 10000) caps the sizes the file store runs: at 100,000 clients its file is
// 70 MB, every write rewrites it (seconds each on a busy 2-core machine), and
// one round of it takes minutes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStore, resolveConfig } from '@mcp-gateway/gateway-kit';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { startRedis } from '@mcp-gateway/testkit';
import {
  authorizationCodeFlow,
  freePort,
  registerPublicClient,
  startGateway,
} from '../../tests/gateway-helpers.js';
import { stopServer } from '../lib/servers.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SIZES = (process.env.BENCH_SIZES ?? '100,10000,100000').split(',').map(Number);
const STORES = (process.env.BENCH_STORES ?? 'embedded,embedded-flush,redis,file').split(',') as StoreKind[];
const FILE_MAX = Number(process.env.BENCH_FILE_MAX ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DAY = 86_400_000;

type StoreKind = 'embedded' | 'embedded-flush' | 'redis' | 'file';

/** The gateway's `store` config for a kind (`embedded-flush`: the embedded store with `durability: flush`). */
function storeConfigOf(kind: StoreKind, prefix: string): Record<string, unknown> {
  if (kind === 'redis') return { type: 'redis', url: redis!.url, prefix: `${prefix}:` };
  if (kind === 'embedded-flush') return { type: 'embedded', durability: 'flush' };
  return { type: kind };
}

/** A dynamic client record as the registry stores it (never used yet: 1-day TTL). */
function clientRecord(id: string) {
  return {
    client_id: id,
    kind: 'dynamic',
    metadata: {
      client_name: 'Pre-filled app',
      redirect_uris: ['http://127.0.0.1:9/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    client_id_issued_at: Math.floor(Date.now() / 1000),
    client_secret_expires_at: 0,
    registrationTokenHash: randomBytes(32).toString('base64url'),
    expiresAt: Date.now() + DAY,
  };
}

const ids = (n: number) => Array.from({ length: n }, () => randomBytes(16).toString('base64url'));

/**
 * Writes `n` clients and their index entries through the store's own API,
 * 1,000 at a time. The old file store keeps a set as one array value, so its
 * index is written the way `keyvStore` would have left it (one `set`), and its
 * concurrent writes share one rewrite of the file.
 */
async function prefill(store: Store, kind: StoreKind, n: number): Promise<void> {
  const all = ids(n);
  for (let i = 0; i < all.length; i += kind === 'file' ? n : 1000) {
    const chunk = all.slice(i, i + (kind === 'file' ? n : 1000));
    await Promise.all(chunk.map((id) => store.set(`client:${id}`, clientRecord(id), DAY)));
    if (kind !== 'file') await Promise.all(chunk.map((id) => store.addToSet('clients:index', id)));
  }
  if (kind === 'file') await store.set('clients:index', all);
}

/** Runs `op` from `CONCURRENCY` workers for `seconds`; returns completed ops per second. */
async function throughput(op: () => Promise<void>, seconds: number): Promise<{ perSec: number; n: number }> {
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await op();
        n++;
      }
    }),
  );
  return { perSec: (n * 1000) / (performance.now() - start), n };
}

let source = 0;
const fromNewSource = () => ({
  'x-forwarded-for': `10.${(++source >> 16) & 255}.${(source >> 8) & 255}.${source & 255}`,
});

interface Target {
  kind: StoreKind;
  size: number;
  prefillSec: number;
  url: string;
  creds: { username: string; password: string };
  stop: () => Promise<void>;
  reg: number[];
  flow: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const redisDir = mkdtempSync(path.join(tmpdir(), 'bench-store-redis-'));
const redis = STORES.includes('redis') ? await startRedis({ dir: redisDir }) : undefined;
const targets: Target[] = [];
const skipped: string[] = [];
const dirs: string[] = [];

/** Pre-fills a store with `size` clients, then starts a gateway on it. */
async function prepare(kind: StoreKind, size: number): Promise<Target> {
  const cwd = mkdtempSync(path.join(tmpdir(), `bench-store-${kind}-`));
  dirs.push(cwd);
  const prefix = `bench${size}`;
  const storeConfig = storeConfigOf(kind, prefix);
  const t0 = performance.now();
  // The store exactly as the gateway will open it (same config, same data dir).
  const { config } = resolveConfig({ store: storeConfig }, { env: {} });
  const store = await createStore(config, cwd);
  await prefill(store, kind, size);
  await store.close();
  const prefillSec = (performance.now() - t0) / 1000;
  const port = await freePort();
  const gw = await startGateway({
    cwd,
    port,
    env: {
      MCP_GATEWAY__ISSUER: `http://127.0.0.1:${port}`,
      MCP_GATEWAY__TRUST_PROXY: 'true',
      MCP_GATEWAY__STORE: JSON.stringify(storeConfig),
    },
  });
  return {
    kind,
    size,
    prefillSec,
    url: gw.url,
    creds: { username: 'admin', password: gw.adminPassword! },
    stop: () => stopServer(gw.cli),
    reg: [],
    flow: [],
  };
}

const register = (t: Target) => async () => {
  const res = await registerPublicClient(t.url, fromNewSource());
  if (res.status !== 201) throw new Error(`${t.kind}@${t.size}: register answered ${res.status}`);
  await res.body?.cancel();
};
const flow = (t: Target) => async () => {
  await authorizationCodeFlow(t.url, t.creds, { headers: fromNewSource() });
};

const label = (t: Target) => `${t.kind.padEnd(15)} ${String(t.size).padStart(6)}`;

try {
  for (const size of SIZES) {
    for (const kind of STORES) {
      if (kind === 'file' && size > FILE_MAX) {
        skipped.push(
          `file ${size}: skipped (BENCH_FILE_MAX=${FILE_MAX}; its ${Math.round(size * 0.7)} KB file is rewritten on every write, a round takes minutes)`,
        );
        continue;
      }
      const t = await prepare(kind, size);
      targets.push(t);
      console.log('  pre-filled %s in %s s, gateway up', label(t), t.prefillSec.toFixed(1));
    }
  }
  for (const t of targets) await throughput(register(t), 1); // warm-up
  // Rounds alternate over every gateway, so a busy moment of the machine hits all alike.
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) t.reg.push((await throughput(register(t), DURATION)).perSec);
    for (const t of targets) t.flow.push((await throughput(flow(t), DURATION)).perSec);
    console.log(
      '  round %d: register/s %s',
      round,
      targets.map((t) => `${t.kind}@${t.size} ${t.reg.at(-1)!.toFixed(1)}`).join(', '),
    );
  }

  const at = (kind: StoreKind, size: number) => targets.find((t) => t.kind === kind && t.size === size);
  /** Median over rounds of a/b measured in the same round. */
  const ratio = (a: number[] | undefined, b: number[] | undefined) =>
    a && b ? median(a.map((x, i) => x / b[i]!)) : NaN;
  const fmt = (x: number, w: number) => (Number.isNaN(x) ? '—' : x.toFixed(2)).padStart(w);
  const smallest = Math.min(...SIZES);
  console.log(
    '\nThrough the gateway: c=%d, %d rounds of %ds per target and kind; medians, ratios = median of per-round ratios',
    CONCURRENCY,
    ROUNDS,
    DURATION,
  );
  console.log(
    '  store      size  register/s  flows/s  register vs %d  flows vs %d  register vs redis  flows vs redis',
    smallest,
    smallest,
  );
  for (const t of targets) {
    const base = at(t.kind, smallest);
    const r = at('redis', t.size);
    console.log(
      '  %s  %s  %s  %s  %s  %s  %s',
      label(t),
      median(t.reg).toFixed(1).padStart(10),
      median(t.flow).toFixed(1).padStart(7),
      fmt(ratio(t.reg, base?.reg), 14),
      fmt(ratio(t.flow, base?.flow), 10),
      fmt(ratio(t.reg, r?.reg), 17),
      fmt(ratio(t.flow, r?.flow), 14),
    );
  }
  for (const line of skipped) console.log(`  ${line}`);
  const big = Math.max(...SIZES);
  const e = at('embedded', big);
  if (e && big !== smallest) {
    const vsSmall = ratio(e.reg, at('embedded', smallest)?.reg);
    const vsRedis = ratio(e.reg, at('redis', big)?.reg);
    console.log(
      '\nAim: embedded register/s at %d ≥ 0.80 × at %d: %s (%s); ≥ 0.50 × redis at %d: %s (%s)',
      big,
      smallest,
      vsSmall >= 0.8 ? 'met' : 'NOT met',
      vsSmall.toFixed(2),
      big,
      vsRedis >= 0.5 ? 'met' : Number.isNaN(vsRedis) ? '—' : 'NOT met',
      Number.isNaN(vsRedis) ? '—' : vsRedis.toFixed(2),
    );
  }
} finally {
  for (const t of targets) await t.stop().catch(() => undefined);
  await redis?.stop();
  for (const d of [redisDir, ...dirs]) rmSync(d, { recursive: true, force: true });
}
