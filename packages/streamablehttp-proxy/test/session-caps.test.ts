import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, mcpPost, rawSession, startBridge, textOf } from './helpers.js';
import { SseReader, stuckServer } from './stuck-server.js';

afterAll(closeAll);

const call = (id: number | string, name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

/** The JSON-RPC error body of a refusal, after checking its status and content type. */
async function refusal(
  res: Response,
  status: number,
): Promise<{ id: unknown; error: { code: number; message: string } }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as { id: unknown; error: { code: number; message: string } };
}

describe('per-session bounds', () => {
  it('in-flight cap: beyond maxInFlightPerSession a request gets 429 and a batch is refused whole; neither reaches the child; the session works once answers come', async () => {
    const record = join(mkdtempSync(join(tmpdir(), 'inflight-')), 'record.txt');
    const b = await startBridge({
      maxInFlightPerSession: 3,
      env: { ...process.env, FIXTURE_RECORD_FILE: record },
    });
    const sid = await rawSession(b.mcpUrl);
    const h = { 'mcp-session-id': sid };
    // Three slow calls fill the session (each answered on its own SSE stream, later).
    const slow: SseReader[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await mcpPost(b.mcpUrl, call(`slow-${i}`, 'slow', { ms: 1500 }), h);
      expect(res.status).toBe(200);
      slow.push(new SseReader(res));
    }
    // A fourth request: 429 with its id.
    const one = await refusal(await mcpPost(b.mcpUrl, call('one', 'record', { text: 'one' }), h), 429);
    expect(one).toMatchObject({ id: 'one', error: { code: -32000 } });
    expect(one.error.message).toMatch(/more than 3 requests in flight/);
    // A batch that would pass the cap: refused whole (id null), none of it sent.
    const batch = await refusal(
      await mcpPost(
        b.mcpUrl,
        [call('b1', 'record', { text: 'b1' }), call('b2', 'record', { text: 'b2' })],
        h,
      ),
      429,
    );
    expect(batch).toMatchObject({ id: null, error: { code: -32000 } });
    // Notifications are not requests: still accepted.
    expect(
      (await mcpPost(b.mcpUrl, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, h)).status,
    ).toBe(202);
    // The in-flight calls finish normally.
    for (const [i, r] of slow.entries()) {
      expect(await r.next((m) => m.id === `slow-${i + 1}`)).toMatchObject({
        result: { content: [{ type: 'text', text: 'slept 1500ms' }] },
      });
    }
    // The session serves again, a batch included; only these reached the child.
    const after = await mcpPost(
      b.mcpUrl,
      [call('a1', 'record', { text: 'a1' }), call('a2', 'record', { text: 'a2' })],
      { ...h, accept: 'application/json' },
    );
    expect(after.status).toBe(200);
    expect(((await after.json()) as unknown[]).length).toBe(2);
    expect(existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter(Boolean).sort() : []).toEqual(
      ['a1', 'a2'],
    );
    expect(b.logs.find('child stderr').filter((l) => l.line === 'slow started')).toHaveLength(3);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('mcp_bridge_requests_rejected_in_flight_total 2');
  });

  it('stream queue cap: an SSE stream whose client stops reading is cut past maxStreamQueueBytes; the session and other clients go on', async () => {
    const b = await startBridge({ maxStreamQueueBytes: 256 * 1024 });
    const sid = await rawSession(b.mcpUrl);
    const other = await rawSession(b.mcpUrl);
    // 64 answers of 1 MiB on one stream, to a client that reads none of them.
    const calls = 64;
    const body = JSON.stringify(
      Array.from({ length: calls }, (_, i) => call(`big-${i}`, 'big', { bytes: 1 << 20 })),
    );
    const { port } = new URL(b.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.on('error', () => {});
    socket.pause();
    socket.write(
      [
        'POST /mcp HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        `Mcp-Session-Id: ${sid}`,
        'Connection: close',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );
    await waitFor(() => b.logs.find('client disconnected from stream').some((l) => l.session === sid));
    // What reached the socket before the cut is all it gets: far less than the 64 MiB answered.
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(received).toBeLessThan((calls << 20) / 2);
    // The session still serves (the child answers every call; the cut stream's are dropped).
    const h = { 'mcp-session-id': sid, accept: 'application/json' };
    const echo = await mcpPost(b.mcpUrl, call('after', 'echo', { text: 'still here' }), h);
    expect(echo.status).toBe(200);
    expect(textOf(((await echo.json()) as { result: unknown }).result)).toBe('still here');
    const res = await mcpPost(b.mcpUrl, call('o', 'echo', { text: 'other' }), {
      ...h,
      'mcp-session-id': other,
    });
    expect(textOf(((await res.json()) as { result: unknown }).result)).toBe('other');
  });

  /**
   * Has the stuck server send `n` notifications for no request (progress for an unknown token) while
   * no stream can take them, so they wait for the next GET; resolves once all were routed.
   */
  async function backlog(url: string, sid: string, n: number, pad = ''): Promise<void> {
    const h = { 'mcp-session-id': sid, accept: 'application/json' };
    for (let sent = 0; sent < n; sent += 500) {
      const batch = Array.from({ length: Math.min(500, n - sent) }, () => ({
        jsonrpc: '2.0',
        method: 'test/progress',
        params: { token: `t${pad}` },
      }));
      expect((await mcpPost(url, batch, h)).status).toBe(202);
    }
    // The child answers in order: once the ping is answered, every notification was routed.
    const ping = await mcpPost(url, { jsonrpc: '2.0', id: `ping-${n}`, method: 'ping' }, h);
    expect(ping.status).toBe(200);
    await ping.text();
  }

  const openGet = async (url: string, sid: string) => {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    expect(res.status).toBe(200);
    return new SseReader(res);
  };

  it('GET backlog: without a GET stream at most GET_BACKLOG_MAX (1000) messages wait for it, the oldest dropped first', async () => {
    const b = await startBridge(stuckServer());
    const sid = await rawSession(b.mcpUrl);
    await backlog(b.mcpUrl, sid, 1005);
    expect(b.logs.find('GET stream backlog full, oldest message dropped')).toHaveLength(5);
    const get = await openGet(b.mcpUrl, sid);
    // Progress 1-5 were dropped; 6-1005 come in order.
    for (let step = 6; step <= 1005; step++) {
      expect(await get.next()).toMatchObject({
        method: 'notifications/progress',
        params: { progress: step },
      });
    }
    // Nothing else was held: the next message is a new one.
    await mcpPost(
      b.mcpUrl,
      { jsonrpc: '2.0', method: 'test/progress', params: { token: 'x' } },
      { 'mcp-session-id': sid },
    );
    expect(await get.next()).toMatchObject({ params: { progress: 1006 } });
    await get.cancel();
  });

  it('GET backlog: its bytes are bounded by maxStreamQueueBytes too', async () => {
    const b = await startBridge({ ...stuckServer(), maxStreamQueueBytes: 20_000 });
    const sid = await rawSession(b.mcpUrl);
    // Each notification is ~1 KiB (a long token): 200 of them are ~200 KiB, ten times the bound.
    const pad = 'p'.repeat(1000);
    await backlog(b.mcpUrl, sid, 200, pad);
    const dropped = b.logs.find('GET stream backlog full, oldest message dropped').length;
    expect(dropped).toBeGreaterThan(170);
    const get = await openGet(b.mcpUrl, sid);
    // What is held are the newest ones, at most 20 000 bytes of them.
    const first = (await get.next()) as { params: { progress: number } };
    expect(first.params.progress).toBe(dropped + 1);
    let bytes = JSON.stringify(first).length;
    for (let step = dropped + 2; step <= 200; step++) {
      const m = await get.next();
      expect(m).toMatchObject({ params: { progress: step } });
      bytes += JSON.stringify(m).length;
    }
    expect(bytes).toBeLessThanOrEqual(20_000);
    await get.cancel();
  });
});
