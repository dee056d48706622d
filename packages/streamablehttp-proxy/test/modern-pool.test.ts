import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, manualClock, startBridge } from './helpers.js';
import { call2026, envelope, readSse, send2026 } from './modern-helpers.js';

// The per-user pool behind 2026-07-28 requests: children never shared between users, bounded per
// user and overall, idle children reaped.

afterEach(closeAll);

const pidOf = async (url: string, user: string) =>
  (await call2026(url, 'tools/call', { name: 'pid' }, { 'x-user': user })).body.result?.content?.[0]?.text;

/** Starts a slow call of `user` and resolves once the child has begun it (first progress event). */
async function busy(url: string, user: string, ac: AbortController): Promise<void> {
  const res = await send2026(
    url,
    'tools/call',
    { name: 'slow', arguments: { ms: 30_000, steps: 100 }, _meta: envelope({ progressToken: 'b' }) },
    { accept: 'text/event-stream', 'x-user': user },
    { signal: ac.signal },
  );
  await new Promise<void>((resolve) => {
    void readSse(res, (m) => m.method === 'notifications/progress' && resolve()).catch(() => {});
  });
}

describe('2026 child pool', () => {
  it('children are never shared between users; a user\u2019s idle child is reused', async () => {
    const b = await startBridge({ identity: 'x-user' });
    const a1 = await pidOf(b.mcpUrl, 'alice');
    const m1 = await pidOf(b.mcpUrl, 'mallory');
    const a2 = await pidOf(b.mcpUrl, 'alice');
    expect(a1).not.toBe(m1);
    expect(a2).toBe(a1);
    expect(b.bridge.stats().modernChildren).toBe(2);
  });

  it('per-user bound with maxQueuedPerUser 0: beyond maxChildrenPerUser busy children the user gets 429 with Retry-After at once; others are served', async () => {
    const b = await startBridge({
      identity: 'x-user',
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 0 },
    });
    const ac = new AbortController();
    await busy(b.mcpUrl, 'alice', ac);
    const refused = await call2026(b.mcpUrl, 'tools/call', { name: 'pid' }, { 'x-user': 'alice' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await pidOf(b.mcpUrl, 'bob')).toMatch(/^\d+$/);
    ac.abort();
  });

  it('queue: while every child of the user is busy, requests wait (bounded: beyond maxQueuedPerUser, 429 at once) and the oldest gets the freed child', async () => {
    const b = await startBridge({
      identity: 'x-user',
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 1, queueTimeoutMs: 20_000 },
    });
    const ac = new AbortController();
    await busy(b.mcpUrl, 'alice', ac);
    const queued = pidOf(b.mcpUrl, 'alice');
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(1));
    const refused = await call2026(b.mcpUrl, 'tools/call', { name: 'pid' }, { 'x-user': 'alice' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.error?.message).toMatch(/queue is full/);
    // Another user is not held up by Alice's queue.
    expect(await pidOf(b.mcpUrl, 'bob')).toMatch(/^\d+$/);
    // Closing the busy call frees Alice's child: the queued request is served by it.
    ac.abort();
    expect(await queued).toMatch(/^\d+$/);
    expect(b.bridge.stats().modernQueued).toBe(0);
    expect(b.bridge.stats().modernChildren).toBe(2);
  });

  it('queue: a queued request whose client disconnects leaves the queue at once; its place goes to the next', async () => {
    const b = await startBridge({
      identity: 'x-user',
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 1, queueTimeoutMs: 20_000 },
    });
    const ac = new AbortController();
    await busy(b.mcpUrl, 'alice', ac);
    const gone = new AbortController();
    const abandoned = send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'pid' },
      { 'x-user': 'alice' },
      { signal: gone.signal },
    );
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(1));
    gone.abort();
    await expect(abandoned).rejects.toThrow();
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(0));
    // The queue (one place) takes the next request, which gets the child when it is freed.
    const queued = pidOf(b.mcpUrl, 'alice');
    await vi.waitFor(() => expect(b.bridge.stats().modernQueued).toBe(1));
    ac.abort();
    expect(await queued).toMatch(/^\d+$/);
    expect(b.bridge.stats().modernQueued).toBe(0);
    expect(b.bridge.stats().modernChildren).toBe(1);
  });

  it('queue: a request that waits longer than queueTimeoutMs gets 429 and leaves the queue', async () => {
    const b = await startBridge({
      identity: 'x-user',
      modern: { maxChildrenPerUser: 1, maxQueuedPerUser: 4, queueTimeoutMs: 300 },
    });
    const ac = new AbortController();
    await busy(b.mcpUrl, 'alice', ac);
    const started = Date.now();
    const refused = await call2026(b.mcpUrl, 'tools/call', { name: 'pid' }, { 'x-user': 'alice' });
    expect(refused.status).toBe(429);
    expect(refused.body.error?.message).toMatch(/in time/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(b.bridge.stats().modernQueued).toBe(0);
    ac.abort();
  });

  it('overall bound: at maxChildren an idle child of another user makes room; when all are busy, 503', async () => {
    const b = await startBridge({ identity: 'x-user', modern: { maxChildren: 1 } });
    await pidOf(b.mcpUrl, 'alice');
    // Alice's idle child is ended to make room for Bob's.
    expect(await pidOf(b.mcpUrl, 'bob')).toMatch(/^\d+$/);
    expect(b.bridge.stats().modernChildren).toBe(1);
    const ac = new AbortController();
    await busy(b.mcpUrl, 'bob', ac);
    const refused = await call2026(b.mcpUrl, 'tools/call', { name: 'pid' }, { 'x-user': 'carol' });
    expect(refused.status).toBe(503);
    ac.abort();
  });

  it('envFromHeaders: a child only serves requests whose headers give it the same environment', async () => {
    const b = await startBridge({
      envFromHeaders: { 'x-token': 'TOKEN' },
      modern: { maxChildrenPerUser: 1 },
    });
    const tokenOf = async (token: string) => {
      const r = await call2026(
        b.mcpUrl,
        'tools/call',
        { name: 'env', arguments: { names: ['TOKEN'] } },
        { 'x-token': token },
      );
      return JSON.parse(r.body.result!.content![0]!.text) as { TOKEN: string };
    };
    expect(await tokenOf('one')).toEqual({ TOKEN: 'one' });
    // At the per-user cap the idle child started with another token makes room.
    expect(await tokenOf('two')).toEqual({ TOKEN: 'two' });
    expect(await tokenOf('one')).toEqual({ TOKEN: 'one' });
    expect(b.bridge.stats().modernChildren).toBe(1);
  });

  it('idle children are ended after idleTimeoutMs', async () => {
    const clock = manualClock();
    const b = await startBridge({ clock, sweepIntervalMs: 20, modern: { idleTimeoutMs: 60_000 } });
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    expect(r.status).toBe(200);
    expect(b.bridge.stats().modernChildren).toBe(1);
    clock.advance(60_000);
    await vi.waitFor(() => expect(b.bridge.stats().modernChildren).toBe(0));
  });

  it('modern: false answers 2026 requests as 2025 traffic (no session: 400)', async () => {
    const b = await startBridge({ modern: false });
    const r = await call2026(b.mcpUrl, 'tools/list');
    expect(r.status).toBe(400);
    expect(b.bridge.stats().modernChildren).toBe(0);
  });
});
