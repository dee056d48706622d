import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, startBridge } from './helpers.js';
import { call2026, envelope, readSse, send2026 } from './modern-helpers.js';

// Shareable 2026-07-28 requests (their client can be asked nothing and wants no log lines) run
// several at once on one child of their user, as a 2025 session's requests do; every other
// request still has a child alone.

afterEach(closeAll);

/** An envelope whose client declares no capabilities: its requests are shareable. */
const bare = (extra: Record<string, unknown> = {}) =>
  envelope({ 'io.modelcontextprotocol/clientCapabilities': {}, ...extra });

/** One user's bridge with one child at most and no queue: a request that cannot share gets 429 at once. */
const oneChild = (modern: Record<string, unknown> = {}) =>
  startBridge({ identity: 'x-user', modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 0, ...modern } });

const pidOf = async (url: string, meta: Record<string, unknown> = bare()) => {
  const r = await call2026(url, 'tools/call', { name: 'pid', _meta: meta }, { 'x-user': 'alice' });
  return { status: r.status, pid: r.body.result?.content?.[0]?.text, error: r.body.error };
};

/**
 * Starts a slow call of alice (`meta` its envelope) and resolves once the child has begun it (its
 * first progress), with the progress messages it streams and its final message.
 */
async function running(url: string, meta: Record<string, unknown>, ms = 30_000, steps = 100) {
  const ac = new AbortController();
  const res = await send2026(
    url,
    'tools/call',
    { name: 'slow', arguments: { ms, steps }, _meta: meta },
    { accept: 'text/event-stream', 'x-user': 'alice' },
    { signal: ac.signal },
  );
  const progress: Record<string, unknown>[] = [];
  let started!: () => void;
  const begun = new Promise<void>((resolve) => (started = resolve));
  const done = readSse(res, (m) => {
    if (m.method !== 'notifications/progress') return;
    progress.push(m.params as Record<string, unknown>);
    started();
  }).catch(() => []);
  await begun;
  return { ac, progress, done };
}

describe('2026 requests sharing a child', () => {
  it('a shareable request runs on the child a shareable request is running on (no 429 with one child and no queue)', async () => {
    const b = await oneChild();
    const before = await pidOf(b.mcpUrl);
    const slow = await running(b.mcpUrl, bare({ progressToken: 's' }));
    const during = await pidOf(b.mcpUrl);
    expect(during.status).toBe(200);
    expect(during.pid).toBe(before.pid);
    expect(b.bridge.stats().modernChildren).toBe(1);
    slow.ac.abort();
  });

  it('requests whose client can be asked something, that ask for log lines or bring inputs, never share (429 here), either way round', async () => {
    const b = await oneChild();
    const shared = await running(b.mcpUrl, bare({ progressToken: 's' }));
    const apart = [
      envelope({ 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }),
      envelope({ 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } }),
      envelope({ 'io.modelcontextprotocol/clientCapabilities': { roots: {} } }),
      bare({ 'io.modelcontextprotocol/logLevel': 'info' }),
    ];
    for (const meta of apart) expect((await pidOf(b.mcpUrl, meta)).status).toBe(429);
    const withInputs = await call2026(
      b.mcpUrl,
      'tools/call',
      { name: 'pid', inputResponses: {}, _meta: bare() },
      { 'x-user': 'alice' },
    );
    expect(withInputs.status).toBe(429);
    shared.ac.abort();
    // The other way round, once the bridge has seen the client leave: a request with the child alone keeps it alone.
    const asking = envelope({ 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } });
    await vi.waitFor(async () => expect((await pidOf(b.mcpUrl, asking)).status).toBe(200));
    const alone = await running(b.mcpUrl, { ...asking, progressToken: 'e' });
    expect((await pidOf(b.mcpUrl)).status).toBe(429);
    alone.ac.abort();
  });

  it('maxSharedPerChild bounds the requests on one child (beyond: another child, else the queue, else 429)', async () => {
    const b = await oneChild({ maxSharedPerChild: 2 });
    const first = await running(b.mcpUrl, bare({ progressToken: 'a' }));
    const second = await running(b.mcpUrl, bare({ progressToken: 'b' }));
    const third = await pidOf(b.mcpUrl);
    expect(third.status).toBe(429);
    expect(b.bridge.stats().modernChildren).toBe(1);
    first.ac.abort();
    second.ac.abort();
  });

  it('maxSharedPerChild 1 turns sharing off', async () => {
    const b = await oneChild({ maxSharedPerChild: 1 });
    const slow = await running(b.mcpUrl, bare({ progressToken: 's' }));
    expect((await pidOf(b.mcpUrl)).status).toBe(429);
    slow.ac.abort();
  });

  it('a shareable request does not pass one waiting for a child alone: it queues behind it', async () => {
    const b = await startBridge({
      identity: 'x-user',
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 4, queueTimeoutMs: 20_000 },
    });
    const shared = await running(b.mcpUrl, bare({ progressToken: 's' }));
    const asking = envelope({ 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } });
    const alone = pidOf(b.mcpUrl, asking);
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(1));
    const later = pidOf(b.mcpUrl);
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(2));
    shared.ac.abort();
    const [first, second] = await Promise.all([alone, later]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.pid).toBe(first.pid);
  });

  it('progress: each request gets its own notifications, with its own token, when two clients on one child chose the same one', async () => {
    const b = await oneChild();
    const one = await running(b.mcpUrl, bare({ progressToken: 'same' }), 900, 3);
    const two = await running(b.mcpUrl, bare({ progressToken: 'same' }), 900, 3);
    const [a, c] = await Promise.all([one.done, two.done]);
    for (const [stream, progress] of [
      [a, one.progress],
      [c, two.progress],
    ] as const) {
      expect(progress.map((p) => [p.progressToken, p.progress])).toEqual([
        ['same', 1],
        ['same', 2],
        ['same', 3],
      ]);
      const final = stream.at(-1) as { result?: { content?: { text: string }[] } };
      expect(final.result?.content?.[0]?.text).toBe('slept 900ms');
    }
    expect(b.bridge.stats().modernChildren).toBe(1);
  });

  it('while several share a child, its input requests are refused (-32021) and the calls end with its answers', async () => {
    const b = await oneChild();
    const slow = await running(b.mcpUrl, bare({ progressToken: 's' }));
    const r = await call2026(
      b.mcpUrl,
      'tools/call',
      { name: 'elicit', arguments: { message: 'Who?' }, _meta: bare() },
      { 'x-user': 'alice' },
    );
    expect(r.status).toBe(200);
    expect(r.body.result?.isError).toBe(true);
    expect(JSON.stringify(r.body.result)).toContain('-32021');
    slow.ac.abort();
  });

  it('a shared request past its deadline gets -32603; the other requests on its child finish, then the child is ended', async () => {
    const b = await startBridge({
      identity: 'x-user',
      requestTimeoutMs: 1500,
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 0 },
    });
    const { pid } = await pidOf(b.mcpUrl);
    const late = call2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 60_000 }, _meta: bare() },
      { 'x-user': 'alice' },
    );
    const other = await running(b.mcpUrl, bare({ progressToken: 'o' }), 2400, 6);
    expect((await late).body.error?.code).toBe(-32603);
    // Draining: no new request is given the child, the one running goes on.
    expect((await pidOf(b.mcpUrl)).status).toBe(429);
    const answers = await other.done;
    expect((answers.at(-1) as { result?: { content?: { text: string }[] } }).result?.content?.[0]?.text).toBe(
      'slept 2400ms',
    );
    await vi.waitFor(() => expect(b.bridge.stats().modernChildren).toBe(0));
    const fresh = await pidOf(b.mcpUrl);
    expect(fresh.status).toBe(200);
    expect(fresh.pid).not.toBe(pid);
  });
});
