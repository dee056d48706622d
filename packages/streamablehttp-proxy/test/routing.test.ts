import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { POST_HEADERS, closeAll, rawSession, startBridge } from './helpers.js';

afterAll(closeAll);

const notifyCall = (id: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'notify', arguments: { message: `m${id}` } },
  });

/** Reads SSE `data:` payloads from a stream until `until` matches one. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (msg: Record<string, unknown>) => boolean,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const got: Record<string, unknown>[] = [];
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = /^data: (.+)$/m.exec(event)?.[1];
      if (!data) continue;
      const msg = JSON.parse(data) as Record<string, unknown>;
      got.push(msg);
      if (until(msg)) {
        await reader.cancel();
        return got;
      }
    }
  }
  return got;
}

describe('routing: every message goes to exactly one stream', () => {
  it('routing: without a GET stream, server notifications ride the request stream before its answer', async () => {
    const b = await startBridge();
    const sid = await rawSession(b.mcpUrl);
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid },
      body: notifyCall(1),
    });
    const msgs = await readEvents(res.body!, (m) => m.id === 1);
    expect(msgs.map((m) => m.method ?? `answer ${String(m.id)}`)).toEqual([
      'notifications/message',
      'answer 1',
    ]);
  });

  it('routing: with a GET stream open, server notifications go there and not to the request stream', async () => {
    const b = await startBridge();
    const sid = await rawSession(b.mcpUrl);
    const get = await fetch(b.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/event-stream');
    const onGet = readEvents(get.body!, (m) => m.method === 'notifications/message');
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid },
      body: notifyCall(2),
    });
    const onPost = await readEvents(res.body!, (m) => m.id === 2);
    expect(onPost.map((m) => m.id)).toEqual([2]);
    expect((await onGet).map((m) => (m.params as { data: string }).data)).toEqual(['m2']);
  });

  it('routing: JSON-mode requests send server notifications to the GET stream', async () => {
    const b = await startBridge({ jsonResponse: true });
    const sid = await rawSession(b.mcpUrl);
    const get = await fetch(b.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    const onGet = readEvents(get.body!, (m) => m.method === 'notifications/message');
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid },
      body: notifyCall(3),
    });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ id: 3, result: { content: [{ text: 'notified' }] } });
    expect((await onGet).map((m) => (m.params as { data: string }).data)).toEqual(['m3']);
  });

  it('lifecycle: DELETE answers requests still in flight with a JSON-RPC error', async () => {
    const b = await startBridge();
    const sid = await rawSession(b.mcpUrl);
    const slow = fetch(b.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sid },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'slow',
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 30_000 } },
      }),
    });
    await waitFor(() => b.bridge.stats().requests === 2);
    const del = await fetch(b.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(del.status).toBe(200);
    expect(await (await slow).json()).toEqual({
      jsonrpc: '2.0',
      id: 'slow',
      error: { code: -32000, message: 'Session ended' },
    });
  });

  it('security: a CORS preflight from an allowed origin is answered with the MCP headers', async () => {
    const b = await startBridge({
      allowedOrigins: ['https://app.example'],
      envFromHeaders: { 'X-Token': 'TOKEN' },
    });
    const res = await fetch(b.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
    expect(res.headers.get('access-control-allow-headers')).toContain('x-token');
    const evil = await fetch(b.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
  });
});
