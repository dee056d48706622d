/**
 * The bridge's `subscriptions/listen` stream (MCP 2026-07-28
 * basic/patterns/subscriptions, basic/patterns/cancellation): the server's
 * teardown `notifications/cancelled` ends the stream and never reaches the
 * host; a transient refusal is retried; the backoff starts over after an
 * acknowledgment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { EraCache } from '../src/index.js';
import { silentLogger } from '../src/log.js';
import { LISTEN_RETRY_MS } from '../src/bridge/listen-loop.js';
import { HOST_INIT, runBridge, type BridgeRun } from './helpers/bridge-run.js';
import { startModernServer, type ModernServer } from './helpers/modern-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** Log lines the bridge wrote, by message. */
let logged: string[] = [];
const logger = {
  ...silentLogger,
  warn: (msg: string) => void logged.push(msg),
};

async function bridged(before: (s: ModernServer) => void = () => undefined) {
  logged = [];
  const s = await startModernServer();
  closers.push(() => s.close());
  before(s);
  const b = runBridge({ url: new URL(s.mcpUrl), eraCache: new EraCache(), logger });
  closers.push(() => b.stop());
  await b.request(0, 'initialize', HOST_INIT);
  b.send({ method: 'notifications/initialized' });
  return { s, b };
}

const listens = (s: ModernServer) => s.seen.filter((r) => r.method === 'subscriptions/listen');

/** Resolves once a tools list change the server announces (again and again) reaches the host. */
const changeReaches = (s: ModernServer, b: BridgeRun, timeoutMs = 15_000) =>
  waitFor(
    () => {
      s.toolsChanged();
      return b.messages().find((m) => m.method === 'notifications/tools/list_changed');
    },
    { timeoutMs, message: 'no list_changed at the host' },
  );

describe('bridge: subscriptions/listen', () => {
  it("the server's teardown notifications/cancelled is not forwarded; the bridge listens again", async () => {
    const { s, b } = await bridged();
    await waitFor(() => listens(s).length === 1, { timeoutMs: 10_000, message: 'no listen' });
    s.endSubscriptions();
    await waitFor(() => listens(s).length === 2, { timeoutMs: 10_000, message: 'not listening again' });
    await changeReaches(s, b);
    expect(b.messages().filter((m) => m.method === 'notifications/cancelled')).toEqual([]);
  });

  it('a 503 with -32603 (a restart) does not stop listening: tried again until the server takes it', async () => {
    const { s, b } = await bridged((s) => s.nextListens('fail', 'fail'));
    await changeReaches(s, b);
    expect(listens(s)).toHaveLength(3);
  });

  it('the backoff starts over after an acknowledgment: streams that end right after theirs are reopened a second apart, not 1, 2, 4 s', async () => {
    const { s } = await bridged((s) => s.nextListens('end', 'end', 'end'));
    await waitFor(() => listens(s).length === 4, { timeoutMs: 15_000, message: 'not reopened 3 times' });
    const at = listens(s).map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(900);
      expect(gap).toBeLessThan(2500);
    }
  });

  it.each(['unauthorized', 'forbidden'] as const)(
    'a %s refusal without a JSON-RPC answer (an auth failure, a 4xx) stops listening: not asked again',
    async (plan) => {
      const { s } = await bridged((s) => s.nextListens(plan));
      await waitFor(() => logged.some((m) => m.startsWith('subscriptions/listen')), {
        timeoutMs: 10_000,
        message: 'not refused',
      });
      // Past the first retry delay: a loop that goes on would have listened again by now.
      await new Promise((r) => setTimeout(r, LISTEN_RETRY_MS.first + 500));
      expect(listens(s)).toHaveLength(1);
      expect(logged).toContain('subscriptions/listen refused; no change notifications');
    },
  );

  it('a thrown 502 (an HTML page from a proxy) is still retried', async () => {
    const { s, b } = await bridged((s) => s.nextListens('bad-gateway'));
    await changeReaches(s, b);
    expect(listens(s)).toHaveLength(2);
  });
});
