import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/index.js';
import {
  closeAll,
  initializeBody,
  isRunning,
  manualClock,
  mcpPost as post,
  rawSession,
  startBridge,
} from './helpers.js';
import { SseReader, stuckServer } from './stuck-server.js';

afterAll(closeAll);

const jsonPost = (url: string, sid: string, body: unknown) =>
  post(url, body, { accept: 'application/json', 'mcp-session-id': sid });

describe('request deadlines', () => {
  it('deadline: by default a request the child never answers gets -32001 after 60 s, the child gets notifications/cancelled, and the session is then reaped as idle', async () => {
    const clock = manualClock();
    const b = await startBridge({ ...stuckServer(), clock, sweepIntervalMs: 10, sessionTimeoutMs: 90_000 });
    const sid = await rawSession(b.mcpUrl);
    const pending = jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 'stuck', method: 'test/hang' });
    await waitFor(() => b.bridge.stats().requests === 2);
    clock.advance(DEFAULTS.requestTimeoutMs);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 'stuck',
      error: { code: -32001, message: 'Request timed out after 60000 ms' },
    });
    await waitFor(() =>
      b.logs
        .find('child stderr')
        .some((l) => l.line === 'cancelled "stuck" Request timed out after 60000 ms'),
    );
    expect(b.bridge.stats().timeouts).toBe(1);
    // The answered-by-timeout request holds nothing: the session is idle from its last use.
    const [pid] = b.bridge.stats().pids;
    clock.advance(90_000 - DEFAULTS.requestTimeoutMs);
    await waitFor(() => b.bridge.stats().sessions === 0);
    await waitFor(() => !isRunning(pid!));
    expect(b.logs.find('session closed')[0]).toMatchObject({ session: sid, reason: 'idle' });
  });

  it('deadline: progress from the child moves the deadline, but never past maxRequestTimeoutMs', async () => {
    const clock = manualClock();
    const b = await startBridge({
      ...stuckServer(),
      clock,
      sweepIntervalMs: 10,
      requestTimeoutMs: 5_000,
      maxRequestTimeoutMs: 12_000,
    });
    const sid = await rawSession(b.mcpUrl);
    // `plain` has no progress token; `long` asks for progress and gets it.
    const plain = jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 'plain', method: 'test/hang' });
    const longRes = await post(
      b.mcpUrl,
      { jsonrpc: '2.0', id: 'long', method: 'test/hang', params: { _meta: { progressToken: 'tok' } } },
      { 'mcp-session-id': sid },
    );
    const long = new SseReader(longRes);
    await waitFor(() => b.bridge.stats().requests === 3);
    const progress = async () => {
      const sent = await jsonPost(b.mcpUrl, sid, {
        jsonrpc: '2.0',
        method: 'test/progress',
        params: { token: 'tok' },
      });
      expect(sent.status).toBe(202);
      expect(await long.next((m) => m.method === 'notifications/progress')).toMatchObject({
        params: { progressToken: 'tok' },
      });
    };
    clock.advance(4_000);
    await progress(); // deadline: 4 s + 5 s = 9 s after the request
    clock.advance(2_000); // 6 s: `plain` is due; `long` is not
    expect(await (await plain).json()).toMatchObject({
      id: 'plain',
      error: { code: -32001, message: 'Request timed out after 5000 ms' },
    });
    // The sweep that answered `plain` looked at `long` at the same time and left it.
    expect(b.bridge.stats().timeouts).toBe(1);
    // A probe due at 11.999 s: its answer shows a sweep has looked at `long` at that time.
    clock.advance(999);
    const probe = jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 'probe', method: 'test/hang' });
    await waitFor(() => b.bridge.stats().requests === 4);
    clock.advance(1_001);
    await progress(); // 8 s: 8 + 5 = 13 s, held to the 12 s maximum
    clock.advance(3_999);
    expect(await (await probe).json()).toMatchObject({ id: 'probe', error: { code: -32001 } });
    expect(b.bridge.stats().timeouts).toBe(2);
    clock.advance(1); // 12 s
    expect(await long.next((m) => m.id === 'long')).toEqual({
      jsonrpc: '2.0',
      id: 'long',
      error: { code: -32001, message: 'Request timed out after 12000 ms' },
    });
    await waitFor(() =>
      b.logs.find('child stderr').some((l) => l.line === 'cancelled "long" Request timed out after 12000 ms'),
    );
    expect(b.bridge.stats().timeouts).toBe(3);
  });
});

describe('initialize timeout', () => {
  it('initialize: a session whose child never answers initialize is ended after 30 s, its child exits and its slot is freed', async () => {
    const clock = manualClock();
    const b = await startBridge({
      ...stuckServer({ hangInitialize: true }),
      clock,
      sweepIntervalMs: 10,
      maxSessions: 2,
    });
    const streams: SseReader[] = [];
    for (const id of [1, 2]) {
      const res = await post(b.mcpUrl, initializeBody(id));
      expect(res.status).toBe(200);
      streams.push(new SseReader(res));
    }
    const full = await post(b.mcpUrl, initializeBody(3));
    expect(full.status).toBe(503);
    await full.text();
    const pids = b.bridge.stats().pids;
    expect(pids).toHaveLength(2);
    clock.advance(DEFAULTS.initializeTimeoutMs);
    for (const [i, s] of streams.entries()) {
      expect(await s.next()).toEqual({
        jsonrpc: '2.0',
        id: i + 1,
        error: { code: -32001, message: 'Initialize timed out after 30000 ms' },
      });
    }
    await waitFor(() => b.bridge.stats().sessions === 0);
    await waitFor(() => pids.every((pid) => !isRunning(pid)), { message: 'a stuck child survived' });
    expect(b.bridge.stats()).toMatchObject({ uninitializedReaped: 2, timeouts: 2 });
    expect(b.logs.find('session closed').map((l) => l.reason)).toEqual([
      'initialize timed out',
      'initialize timed out',
    ]);
    // The slots are free again.
    const again = await post(b.mcpUrl, initializeBody(4));
    expect(again.status).toBe(200);
    await again.body?.cancel();
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('mcp_bridge_sessions_uninitialized_reaped_total 2');
    expect(metrics).toContain('mcp_bridge_request_timeouts_total 2');
  });

  it('initialize: a session whose client cancelled its initialize is reaped at the initialize timeout', async () => {
    const clock = manualClock();
    const b = await startBridge({
      ...stuckServer({ hangInitialize: true }),
      clock,
      sweepIntervalMs: 10,
      initializeTimeoutMs: 1_000,
    });
    const res = await post(b.mcpUrl, initializeBody(7));
    const sid = res.headers.get('mcp-session-id')!;
    const cancelled = await jsonPost(b.mcpUrl, sid, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 7 },
    });
    expect(cancelled.status).toBe(202);
    await res.text(); // the stream ends: nothing is pending
    expect(b.bridge.stats().sessions).toBe(1);
    clock.advance(1_000);
    await waitFor(() => b.bridge.stats().sessions === 0);
    expect(b.bridge.stats().uninitializedReaped).toBe(1);
  });
});

describe('malformed params', () => {
  it('params: an initialize whose params are not an object is answered -32602 and opens no session', async () => {
    const b = await startBridge(stuckServer());
    for (const params of [[], 'x', 1, null, undefined]) {
      const res = await post(b.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'initialize', params });
      expect(res.status).toBe(400);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32602 } });
    }
    expect(b.bridge.stats()).toMatchObject({ sessions: 0, spawns: 0 });
  });

  it('params: params that are not an object are answered -32602 and never reach the child', async () => {
    const b = await startBridge(stuckServer());
    const sid = await rawSession(b.mcpUrl);
    for (const params of [[], ['a'], 'x', 5, true, null]) {
      const res = await jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 'bad', method: 'tools/call', params });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        jsonrpc: '2.0',
        id: 'bad',
        error: { code: -32602, message: expect.stringContaining('must be an object') },
      });
    }
    const batch = await jsonPost(b.mcpUrl, sid, [
      { jsonrpc: '2.0', id: 'ok', method: 'tools/list' },
      { jsonrpc: '2.0', id: 'arr', method: 'tools/list', params: [] },
    ]);
    expect(batch.status).toBe(400);
    expect(await batch.json()).toMatchObject({ id: 'arr', error: { code: -32602 } });
    const note = await jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', method: 'notifications/x', params: [1] });
    expect(note.status).toBe(400);
    expect(await note.json()).toMatchObject({ id: null, error: { code: -32602 } });
    // Only initialize reached the child; the session still works.
    expect(b.bridge.stats().requests).toBe(1);
    const ok = await jsonPost(b.mcpUrl, sid, {
      jsonrpc: '2.0',
      id: 'fine',
      method: 'tools/list',
      params: {},
    });
    expect(await ok.json()).toMatchObject({ id: 'fine', result: { tools: [] } });
  });
});
