import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const CAP = 64 * 1024;
const BIG = 'x'.repeat(4 * CAP);

/**
 * A 2025 MCP server (session `s1`) answering `test/json-big` with a JSON body
 * over the cap (with or without Content-Length), `test/sse-big` with an SSE
 * event over the cap (an event id, so the SDK could resume), and anything
 * else with `{}`.
 */
async function bigAnswerServer() {
  const enc = new TextEncoder();
  const l = await listen(async (req) => {
    if (req.method === 'DELETE') return new Response(null, { status: 200 });
    if (req.method !== 'POST') return new Response(null, { status: 405 });
    const m = (await req.json()) as { id?: unknown; method: string };
    if (m.id === undefined) return new Response(null, { status: 202 });
    const headers = { 'content-type': 'application/json', 'mcp-session-id': 's1' };
    const line = (result: unknown) => JSON.stringify({ jsonrpc: '2.0', id: m.id, result });
    if (m.method === 'initialize')
      return new Response(
        line({ protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 's', version: '1' } }),
        { headers },
      );
    if (m.method === 'test/json-big') {
      const text = enc.encode(line({ big: BIG }));
      return new Response(text, { headers });
    }
    if (m.method === 'test/json-big-chunked') {
      // No Content-Length: the cap must stop the read itself.
      const text = enc.encode(line({ big: BIG }));
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < text.length; i += 16 * 1024) c.enqueue(text.subarray(i, i + 16 * 1024));
          c.close();
        },
      });
      return new Response(body, { headers });
    }
    if (m.method === 'test/sse-big') {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(
            enc.encode(
              `id: e1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } })}\n\n`,
            ),
          );
          c.enqueue(enc.encode(`id: e2\ndata: ${line({ big: BIG })}\n\n`));
          c.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    }
    return new Response(line({}), { headers });
  });
  return l;
}

describe('MCP 2025 path: server messages are size-limited (maxMessageBytes)', () => {
  it('a JSON answer or an SSE event over the cap gets a -32000 too_large answer; the bridge keeps working', async () => {
    const s = await bigAnswerServer();
    closers.push(() => s.close());
    const bridge = runBridge({ url: new URL(`${s.url}/mcp`), protocol: '2025-11-25', maxMessageBytes: CAP });
    closers.push(() => bridge.stop());
    const { request, messages } = bridge;
    await request(0, 'initialize', HOST_INIT);
    bridge.send({ method: 'notifications/initialized' });
    const tooLarge = { code: -32000, data: { code: 'too_large' } };
    expect((await request(1, 'test/json-big')).error).toMatchObject(tooLarge);
    expect((await request(2, 'test/json-big-chunked')).error).toMatchObject(tooLarge);
    expect((await request(3, 'test/sse-big')).error).toMatchObject(tooLarge);
    expect((await request(4, 'test/ok')).result).toEqual({});
    // Exactly one answer each; the notification before the big event went through.
    expect(
      messages()
        .filter((m) => !('method' in m))
        .map((m) => m.id),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(messages().some((m) => m.method === 'notifications/message')).toBe(true);
    expect(JSON.stringify(messages())).not.toContain(BIG);
  });
});
