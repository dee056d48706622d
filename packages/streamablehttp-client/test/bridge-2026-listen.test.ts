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
import { HOST_INIT, runBridge, type BridgeRun } from './helpers/bridge-run.js';
import { startModernServer, type ModernServer } from './helpers/modern-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function bridged(before: (s: ModernServer) => void = () => undefined) {
  const s = await startModernServer();
  closers.push(() => s.close());
  before(s);
  const b = runBridge({ url: new URL(s.mcpUrl), eraCache: new EraCache() });
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
});
