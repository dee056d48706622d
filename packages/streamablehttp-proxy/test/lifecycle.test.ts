import { readFileSync } from 'node:fs';
import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildProcess } from '../src/child-process.js';
import {
  closeAll,
  connectClient,
  isRunning,
  manualClock,
  rawSession,
  startBridge,
  textOf,
} from './helpers.js';

afterAll(closeAll);

const jsonPost = (url: string, sid: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sid },
    body: JSON.stringify(body),
    signal,
  });

describe('session lifecycle', () => {
  it('lifecycle: an idle session is reaped even while its GET stream is open', async () => {
    const clock = manualClock();
    const b = await startBridge({ clock, sessionTimeoutMs: 60_000, sweepIntervalMs: 10 });
    const { client, transport } = await connectClient(b.mcpUrl);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    const sid = transport.sessionId!;
    // The SDK client holds a GET stream open after initialization.
    await waitFor(() => b.logs.lines.some((l) => l.msg === 'session opened'));
    clock.advance(59_000);
    expect(b.bridge.stats().sessions).toBe(1);
    clock.advance(2_000);
    await waitFor(() => b.bridge.stats().sessions === 0);
    await waitFor(() => !isRunning(pid));
    expect(b.logs.find('session closed')[0]).toMatchObject({ session: sid, reason: 'idle' });
    const res = await jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(res.status).toBe(404);
    await client.close();
  });

  it('lifecycle: a request past its timeout gets a JSON-RPC error and the child gets notifications/cancelled', async () => {
    const clock = manualClock();
    const b = await startBridge({ clock, requestTimeoutMs: 5_000, sweepIntervalMs: 10 });
    const sid = await rawSession(b.mcpUrl);
    const pending = jsonPost(b.mcpUrl, sid, {
      jsonrpc: '2.0',
      id: 'long',
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 20_000, steps: 200 } },
    });
    await waitFor(() => b.bridge.stats().requests === 2);
    clock.advance(5_001);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 'long',
      error: { code: -32001, message: 'Request timed out after 5000 ms' },
    });
    expect(b.bridge.stats().timeouts).toBe(1);
    await waitFor(() =>
      b.logs
        .find('child stderr')
        .some((l) => String(l.line).startsWith('slow cancelled: Request timed out after 5000 ms')),
    );
    // The session goes on.
    const next = await jsonPost(b.mcpUrl, sid, { jsonrpc: '2.0', id: 'after', method: 'tools/list' });
    expect(await next.json()).toMatchObject({ id: 'after', result: {} });
  });

  it('lifecycle: close() ends every session child, pooled child and grandchild (no orphans)', async () => {
    const b = await startBridge({ poolSize: 2, killGraceMs: 500 });
    await waitFor(() => b.bridge.stats().pooled === 2);
    const clients = await Promise.all([connectClient(b.mcpUrl), connectClient(b.mcpUrl)]);
    const pids: number[] = [];
    for (const { client } of clients) {
      pids.push(Number(textOf(await client.callTool({ name: 'pid', arguments: {} }))));
      pids.push(Number(textOf(await client.callTool({ name: 'grandchild', arguments: {} }))));
    }
    await waitFor(() => b.bridge.stats().pooled === 2);
    for (const pid of b.bridge.stats().pids) if (!pids.includes(pid)) pids.push(pid);
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    await b.close();
    await waitFor(() => pids.every((pid) => !isRunning(pid)), { message: 'a child survived close()' });
    expect(b.bridge.stats()).toMatchObject({ sessions: 0, pooled: 0 });
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('lifecycle: a child that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const b = await startBridge({
      command: process.execPath,
      args: [
        '-e',
        `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdin.on('data', (d) => { for (const l of String(d).split('\\n').filter(Boolean)) { const m = JSON.parse(l); if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'stubborn', version: '1' }, pid: process.pid } }) + '\\n'); } });`,
      ],
      killGraceMs: 200,
    });
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25' },
      }),
    });
    const pid = ((await res.json()) as { result: { pid: number } }).result.pid;
    const started = Date.now();
    await b.close();
    expect(isRunning(pid)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('backpressure: writes to a child that does not read stdin wait for drain', async () => {
    const child = new ChildProcess(
      {
        command: process.execPath,
        args: ['-e', 'setInterval(() => {}, 1000)'],
        env: process.env,
        maxLineBytes: 1024,
      },
      Date.now(),
    );
    const line = 'x'.repeat(1024 * 1024);
    expect(child.write(line)).toBeInstanceOf(Promise);
    const drained = child.write(line);
    expect(drained).toBeInstanceOf(Promise);
    await child.kill(100);
    await drained;
    expect(child.alive).toBe(false);
  });

  it('framing: stdout lines over the cap are dropped and framing resumes at the next line', async () => {
    const b = await startBridge({ maxLineBytes: 2_000 });
    const sid = await rawSession(b.mcpUrl);
    const aborter = new AbortController();
    const big = jsonPost(
      b.mcpUrl,
      sid,
      {
        jsonrpc: '2.0',
        id: 'big',
        method: 'tools/call',
        params: { name: 'big', arguments: { bytes: 100_000 } },
      },
      aborter.signal,
    ).catch((e: unknown) => e);
    await waitFor(() => b.logs.find('child stdout line over the cap dropped').length === 1);
    expect(b.logs.find('child stdout line over the cap dropped')[0]).toMatchObject({ session: sid });
    aborter.abort();
    await big;
    const res = await jsonPost(b.mcpUrl, sid, {
      jsonrpc: '2.0',
      id: 'small',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'still framed' } },
    });
    expect(await res.json()).toMatchObject({ id: 'small', result: { content: [{ text: 'still framed' }] } });
  });

  it('limits: per-child memory and CPU limits are applied through prlimit', async () => {
    const b = await startBridge({ limits: { memoryBytes: 8 * 1024 ** 3, cpuSeconds: 120 } });
    const { client } = await connectClient(b.mcpUrl);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    expect(limits).toMatch(/Max cpu time\s+120\s+120\s+seconds/);
    expect(limits).toMatch(/Max address space\s+8589934592\s+8589934592\s+bytes/);
    await client.close();
  });
});

describe('warm pool', () => {
  it('pool: sessions take pre-spawned children, the pool refills in the background and never exceeds the cap', async () => {
    const b = await startBridge({ poolSize: 2, maxSessions: 3 });
    // Warm: each pooled child has loaded and answered a ping sent before initialize.
    await waitFor(() => b.bridge.stats().warm === 2);
    expect(b.bridge.stats().spawns).toBe(2);
    const pooledPids = b.bridge.stats().pids;
    const { client } = await connectClient(b.mcpUrl);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    expect(pooledPids).toContain(pid);
    await waitFor(() => b.bridge.stats().pooled === 2);
    expect(b.bridge.stats()).toMatchObject({ sessions: 1, spawns: 3 });
    const second = await connectClient(b.mcpUrl);
    // 2 sessions + pool may not pass 3 children.
    await waitFor(() => b.bridge.stats().sessions === 2);
    const s = b.bridge.stats();
    expect(s.sessions + s.pooled).toBeLessThanOrEqual(3);
    expect(s.pooled).toBe(1);
    await second.client.close();
    await client.close();
  });

  it('pool: a pooled child that dies is replaced', async () => {
    const b = await startBridge({ poolSize: 1 });
    await waitFor(() => b.bridge.stats().pooled === 1);
    const [pid] = b.bridge.stats().pids;
    process.kill(pid!, 'SIGKILL');
    await waitFor(() => b.bridge.stats().pooled === 1 && b.bridge.stats().pids[0] !== pid);
    expect(b.bridge.stats().crashes).toBe(1);
  });
});
