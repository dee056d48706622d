import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  initializeBody,
  isRunning,
  manualClock,
  mcpPost,
  rawSession,
  startBridge,
} from './helpers.js';
import { stuckServer } from './stuck-server.js';

afterAll(closeAll);

/** A POST that wants a JSON answer. */
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  mcpPost(url, body, { accept: 'application/json', ...headers });

/** `tools/list` on session `sid` as `user`; resolves with the status. */
async function listTools(url: string, sid: string, user: string): Promise<number> {
  const res = await post(
    url,
    { jsonrpc: '2.0', id: 'list', method: 'tools/list' },
    {
      'x-user': user,
      'mcp-session-id': sid,
    },
  );
  await res.text();
  return res.status;
}

/** Leaves a request the stuck server never answers in flight on session `sid` (the SSE stream is dropped). */
async function busy(url: string, sid: string, user: string): Promise<void> {
  const res = await post(
    url,
    { jsonrpc: '2.0', id: `hang-${sid}`, method: 'test/hang' },
    { accept: 'text/event-stream', 'mcp-session-id': sid, 'x-user': user },
  );
  expect(res.status).toBe(200);
  await res.body?.cancel();
}

describe('per-user session cap', () => {
  it('user cap: at maxSessionsPerUser the least recently used idle session of that user is ended; others are untouched', async () => {
    const clock = manualClock();
    const b = await startBridge({ ...stuckServer(), clock, identity: 'x-user', maxSessionsPerUser: 2 });
    const alice = { 'x-user': 'alice' };
    const first = await rawSession(b.mcpUrl, alice);
    clock.advance(1_000);
    const second = await rawSession(b.mcpUrl, alice);
    const bob = await rawSession(b.mcpUrl, { 'x-user': 'bob' });
    clock.advance(1_000);
    // Using `first` makes `second` alice's least recently used session.
    expect(await listTools(b.mcpUrl, first, 'alice')).toBe(200);
    const pidsBefore = b.bridge.stats().pids;
    const third = await rawSession(b.mcpUrl, alice);
    expect(b.logs.find('session closed')).toEqual([
      expect.objectContaining({ session: second, reason: 'evicted: per-user cap' }),
    ]);
    expect(await listTools(b.mcpUrl, second, 'alice')).toBe(404);
    expect(await listTools(b.mcpUrl, first, 'alice')).toBe(200);
    expect(await listTools(b.mcpUrl, third, 'alice')).toBe(200);
    expect(await listTools(b.mcpUrl, bob, 'bob')).toBe(200);
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 1 });
    // The evicted session's child exits.
    const pidsAfter = b.bridge.stats().pids;
    const evictedPid = pidsBefore.find((p) => !pidsAfter.includes(p))!;
    await waitFor(() => !isRunning(evictedPid));
  });

  it('user cap: when every session of the user is busy the next is refused 429 with Retry-After, for that user only; the global cap stays', async () => {
    const clock = manualClock();
    const b = await startBridge({
      ...stuckServer(),
      clock,
      sweepIntervalMs: 10,
      identity: 'x-user',
      maxSessionsPerUser: 2,
      maxSessions: 3,
      requestTimeoutMs: 10_000,
      retryAfterSeconds: 7,
    });
    for (let i = 0; i < 2; i++) {
      const sid = await rawSession(b.mcpUrl, { 'x-user': 'alice' });
      await busy(b.mcpUrl, sid, 'alice');
    }
    const refused = await post(b.mcpUrl, initializeBody(), { 'x-user': 'alice' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(await refused.json()).toMatchObject({
      error: { code: -32000, message: expect.stringMatching(/user/) },
    });
    // Another user still gets in, up to the global cap.
    await rawSession(b.mcpUrl, { 'x-user': 'bob' });
    const full = await post(b.mcpUrl, initializeBody(), { 'x-user': 'carol' });
    expect(full.status).toBe(503);
    await full.text();
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, rejections: { userCap: 1, globalCap: 1 } });
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('mcp_bridge_session_rejections_total{reason="global_cap"} 1');
    expect(metrics).toContain('mcp_bridge_session_rejections_total{reason="user_cap"} 1');
    expect(metrics).toContain('mcp_bridge_sessions_per_user_max 2');
    expect(metrics).not.toContain('alice');
    // Requests past their deadline keep nothing busy: alice's oldest session makes room.
    clock.advance(10_000);
    await waitFor(() => b.bridge.stats().timeouts === 2);
    await rawSession(b.mcpUrl, { 'x-user': 'alice' });
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 1 });
    expect(await (await fetch(`${b.url}/metrics`)).text()).toContain('mcp_bridge_session_evictions_total 1');
  });

  it('user cap: without an identity there is no per-user cap (an address is not a user); maxSessions still holds', async () => {
    const b = await startBridge({ ...stuckServer(), maxSessionsPerUser: 1, maxSessions: 3 });
    for (let i = 0; i < 3; i++) await rawSession(b.mcpUrl);
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 0 });
    const full = await post(b.mcpUrl, initializeBody());
    expect(full.status).toBe(503);
    await full.text();
    expect(b.bridge.stats().rejections).toEqual({ globalCap: 1, userCap: 0 });
  });

  it('user cap: with an identity header a request without the header counts against no user', async () => {
    const b = await startBridge({ ...stuckServer(), identity: 'x-user', maxSessionsPerUser: 1 });
    await rawSession(b.mcpUrl, { 'x-user': 'alice' });
    await rawSession(b.mcpUrl);
    await rawSession(b.mcpUrl);
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 0 });
    await rawSession(b.mcpUrl, { 'x-user': 'alice' });
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 1 });
  });

  it('user cap: maxSessionsPerUser 0 turns the cap off', async () => {
    const b = await startBridge({ ...stuckServer(), identity: 'x-user', maxSessionsPerUser: 0 });
    for (let i = 0; i < 3; i++) await rawSession(b.mcpUrl, { 'x-user': 'alice' });
    expect(b.bridge.stats()).toMatchObject({ sessions: 3, evictions: 0 });
  });
});
