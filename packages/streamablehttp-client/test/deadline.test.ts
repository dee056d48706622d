import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { withRequestDeadline } from '../src/http/deadline.js';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/**
 * A 2025 MCP server whose `test/slow` answer is an SSE stream: headers at
 * once, the response `delayMs` later.
 */
async function slowStreamServer(delayMs: number) {
  return listen(async (req) => {
    if (req.method === 'DELETE') return new Response(null, { status: 200 });
    if (req.method !== 'POST') return new Response(null, { status: 405 });
    const m = (await req.json()) as { id?: unknown; method: string };
    if (m.id === undefined) return new Response(null, { status: 202 });
    const json = (result: unknown) =>
      new Response(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }), {
        headers: { 'content-type': 'application/json', 'mcp-session-id': 's1' },
      });
    if (m.method === 'initialize')
      return json({
        protocolVersion: '2025-11-25',
        capabilities: {},
        serverInfo: { name: 's', version: '1' },
      });
    if (m.method !== 'test/slow') return json({});
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(': open\n\n'));
        setTimeout(() => {
          c.enqueue(
            new TextEncoder().encode(
              `data: ${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { slow: true } })}\n\n`,
            ),
          );
          c.close();
        }, delayMs);
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  });
}

describe('request deadline', () => {
  it('times the response headers only: an SSE answer that arrives after the deadline, on a stream opened in time, is delivered', async () => {
    const s = await slowStreamServer(1200);
    closers.push(() => s.close());
    const bridge = runBridge({ url: new URL(`${s.url}/mcp`), protocol: '2025-11-25', requestTimeoutMs: 400 });
    closers.push(() => bridge.stop());
    await bridge.request(0, 'initialize', HOST_INIT);
    bridge.send({ method: 'notifications/initialized' });
    expect(await bridge.request(1, 'test/slow')).toEqual({ jsonrpc: '2.0', id: 1, result: { slow: true } });
  });
});

describe('withRequestDeadline and the caller signal', () => {
  it('one long-lived caller signal keeps no listener per request once each body is done; aborting it still stops a body being read', async () => {
    let hold: ReadableStreamDefaultController<Uint8Array> | undefined;
    const server = await listen((req) => {
      if (new URL(req.url).pathname === '/hold') {
        return new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              hold = c;
              c.enqueue(new TextEncoder().encode('first'));
            },
          }),
        );
      }
      return Response.json({ ok: true });
    });
    closers.push(() => server.close());
    const timed = withRequestDeadline((input, init) => fetch(input, init), 5000);
    const transport = new AbortController();
    for (let i = 0; i < 50; i++) {
      const res = await timed(`${server.url}/json`, { signal: transport.signal });
      expect(await res.json()).toEqual({ ok: true });
    }
    // A body read to its end, and one given up, leave nothing on the signal.
    const dropped = await timed(`${server.url}/json`, { signal: transport.signal });
    await dropped.body!.cancel();
    expect(EventEmitter.getEventListeners(transport.signal, 'abort')).toHaveLength(0);

    const streaming = await timed(`${server.url}/hold`, { signal: transport.signal });
    const reader = streaming.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
    transport.abort(new Error('transport closed'));
    await expect(reader.read()).rejects.toThrow();
    hold?.close();
  });
});
