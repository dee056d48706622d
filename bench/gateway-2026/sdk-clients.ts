// The same calls through the MCP SDK's own clients, their cost included: what an application using
// the SDK sees. A 2026-07-28 call from the SDK 2.x client pinned to that revision, against a 2025
// session of the SDK 1.x client and of the SDK 2.x client in its `legacy` mode; one call at a time
// per client, the three taking turns round by round.
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { median } from '../lib/autocannon.js';
import { treeCpuMs } from '../lib/proc.js';

/** The clients measured, by key: what each speaks. */
export const SDK_CLIENTS = {
  modern: 'SDK 2.x pinned to 2026-07-28 (stateless)',
  legacy1: 'SDK 1.x, a 2025 session',
  legacy2: "SDK 2.x in 'legacy' mode, a 2025 session",
} as const;

type Kind = keyof typeof SDK_CLIENTS;

/** What one client measured: µs per call of each round, and CPU µs per call (this process; gateway + children; the gateway). */
export interface SdkEra {
  rounds: number[];
  clientCpuUs: number;
  serverCpuUs: number;
  gatewayCpuUs: number;
}

interface Callable {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

async function connect(kind: Kind, url: URL, auth: Record<string, string>): Promise<Callable> {
  const requestInit = { headers: auth };
  if (kind === 'legacy1') {
    const client = new Client1({ name: 'bench', version: '1' });
    await client.connect(new Transport1(url, { requestInit }));
    return client;
  }
  const mode = kind === 'modern' ? { pin: '2026-07-28' } : ('legacy' as const);
  const client = new Client2({ name: 'bench', version: '1' }, { versionNegotiation: { mode } });
  await client.connect(new Transport2(url, { requestInit }));
  return client;
}

/**
 * `rounds` rounds of `calls` sequential echo calls per client, the order of the clients rotating
 * round by round, after `warmup` calls of each: a 2025 client's session starts a child of its own,
 * and a fresh child's CPU per call falls by a third over its first ~10,000 calls, while the 2026
 * client's calls go to the user's pooled child, warm from the sections before. Counts, and does not print, the SDK transports'
 * `MaxListenersExceededWarning`s (their fetches add an abort listener each to one long-lived
 * signal, removed only when the request is collected), so that printing them is not measured.
 */
export async function sdkRounds(
  url: string,
  auth: Record<string, string>,
  gatewayPid: number,
  rounds: number,
  calls: number,
  warmup: number,
): Promise<{ eras: Record<Kind, SdkEra>; listenerWarnings: number }> {
  let listenerWarnings = 0;
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') listenerWarnings++;
    else for (const p of printers) p(w);
  };
  process.on('warning', onWarning);
  const kinds = Object.keys(SDK_CLIENTS) as Kind[];
  const clients = {} as Record<Kind, Callable>;
  const eras = {} as Record<Kind, SdkEra & { client: number; server: number; gateway: number; n: number }>;
  try {
    for (const k of kinds) {
      clients[k] = await connect(k, new URL(url), auth);
      eras[k] = {
        rounds: [],
        clientCpuUs: 0,
        serverCpuUs: 0,
        gatewayCpuUs: 0,
        client: 0,
        server: 0,
        gateway: 0,
        n: 0,
      };
    }
    const round = async (k: Kind, keep: boolean) => {
      const client = clients[k];
      const n = keep ? calls : warmup;
      const server = treeCpuMs(gatewayPid);
      const cpu = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < n; i++) await client.callTool({ name: 'echo', arguments: { text: 'hello bench' } });
      const us = (performance.now() - t) * 1000;
      const used = process.cpuUsage(cpu);
      const after = treeCpuMs(gatewayPid);
      if (!keep) return;
      const e = eras[k];
      e.rounds.push(us / n);
      e.client += used.user + used.system;
      if (server && after) {
        e.server += (after.tree - server.tree) * 1000;
        e.gateway += (after.root - server.root) * 1000;
      }
      e.n += n;
    };
    for (const k of kinds) await round(k, false);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < kinds.length; i++) await round(kinds[(r + i) % kinds.length]!, true);
    }
    for (const k of kinds) {
      const e = eras[k];
      e.clientCpuUs = e.client / e.n;
      e.serverCpuUs = e.server / e.n;
      e.gatewayCpuUs = e.gateway / e.n;
    }
    return { eras, listenerWarnings };
  } finally {
    for (const k of kinds) await clients[k]?.close().catch(() => {});
    process.off('warning', onWarning);
    for (const p of printers) process.on('warning', p);
  }
}

/** Prints {@link sdkRounds}'s figures: µs per call, CPU per call, and 2026's ratio to each 2025 client. */
export function reportSdk(title: string, r: Awaited<ReturnType<typeof sdkRounds>>): void {
  const { eras } = r;
  console.log(title);
  for (const k of Object.keys(SDK_CLIENTS) as Kind[]) {
    const e = eras[k];
    console.log(
      `  ${SDK_CLIENTS[k].padEnd(42)} ${median(e.rounds).toFixed(0)} µs per call; CPU per call: ` +
        `client ${e.clientCpuUs.toFixed(0)} µs, gateway + children ${e.serverCpuUs.toFixed(0)} µs ` +
        `(gateway ${e.gatewayCpuUs.toFixed(0)})`,
    );
  }
  const ratio = (k: Kind) => {
    const pairs = eras[k].rounds.map((l, i) => l / eras.modern.rounds[i]!).sort((a, b) => a - b);
    return median(pairs).toFixed(2);
  };
  console.log(
    `  ratio 2026/2025 (median of the rounds' ratios): against SDK 1.x ${ratio('legacy1')}, ` +
      `against SDK 2.x legacy ${ratio('legacy2')}`,
  );
  console.log(
    `  (the SDK transports' abort-listener warnings while measuring, not printed: ${r.listenerWarnings})`,
  );
}
