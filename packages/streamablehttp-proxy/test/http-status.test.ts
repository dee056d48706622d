import http from 'node:http';
import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedBridge } from '../src/index.js';
import { POST_HEADERS, closeAll, initializeBody, rawSession, startBridge } from './helpers.js';

type Bridge = ServedBridge & { mcpUrl: string };
let b: Bridge;
let session: string;

beforeAll(async () => {
  b = await startBridge({ maxBodyBytes: 1024, allowedOrigins: ['https://app.example'] });
  session = await rawSession(b.mcpUrl);
});
afterAll(closeAll);

const toolsList = (id: number | string = 2) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });

async function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(b.mcpUrl, {
    method: 'POST',
    headers: { ...POST_HEADERS, 'mcp-session-id': session, ...headers },
    body,
  });
}

async function expectError(res: Response, status: number, code: number, message: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  const body = (await res.json()) as {
    jsonrpc: string;
    id: unknown;
    error: { code: number; message: string };
  };
  expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code } });
  expect(body.error.message).toMatch(message);
}

/** node:http request, so the Host header is exactly what the test says. */
function rawHttp(url: string, opts: { method: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: opts.method, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('Streamable HTTP error statuses (raw fetch)', () => {
  it('transport: an unknown session id answers 404 on POST, GET and DELETE', async () => {
    const headers = { 'mcp-session-id': 'deadbeef' };
    await expectError(await post(toolsList(), headers), 404, -32001, /Session not found/);
    await expectError(
      await fetch(b.mcpUrl, { headers: { accept: 'text/event-stream', ...headers } }),
      404,
      -32001,
      /Session not found/,
    );
    await expectError(await fetch(b.mcpUrl, { method: 'DELETE', headers }), 404, -32001, /Session not found/);
  });

  it('transport: a non-initialize request without Mcp-Session-Id answers 400', async () => {
    const res = await fetch(b.mcpUrl, { method: 'POST', headers: POST_HEADERS, body: toolsList() });
    await expectError(res, 400, -32000, /Mcp-Session-Id header is required/);
    await expectError(
      await fetch(b.mcpUrl, { headers: { accept: 'text/event-stream' } }),
      400,
      -32000,
      /Mcp-Session-Id/,
    );
    await expectError(await fetch(b.mcpUrl, { method: 'DELETE' }), 400, -32000, /Mcp-Session-Id/);
  });

  it('transport: an unsupported MCP-Protocol-Version answers 400', async () => {
    await expectError(
      await post(toolsList(), { 'mcp-protocol-version': '1999-01-01' }),
      400,
      -32000,
      /unsupported MCP-Protocol-Version: 1999-01-01/,
    );
    await expectError(
      await fetch(b.mcpUrl, {
        headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': 'x' },
      }),
      400,
      -32000,
      /unsupported MCP-Protocol-Version/,
    );
    const ok = await post(toolsList(3), { 'mcp-protocol-version': '2025-06-18', accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 3, result: { tools: expect.any(Array) } });
  });

  it('security: an Origin outside the allow-list answers 403; listed and same-origin ones pass with CORS', async () => {
    await expectError(
      await post(toolsList(), { origin: 'https://evil.example' }),
      403,
      -32000,
      /Origin not allowed/,
    );
    const listed = await post(toolsList(4), { origin: 'https://app.example', accept: 'application/json' });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(listed.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
    await listed.body?.cancel();
    const same = await post(toolsList(5), { origin: b.url, accept: 'application/json' });
    expect(same.status).toBe(200);
    await same.body?.cancel();
    const spawnsBefore = b.bridge.stats().spawns;
    const refused = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, origin: 'https://evil.example' },
      body: initializeBody(),
    });
    expect(refused.status).toBe(403);
    expect(b.bridge.stats().spawns).toBe(spawnsBefore);
  });

  it('security: bound to loopback, a Host that is not loopback answers 403 (DNS rebinding)', async () => {
    const evil = await rawHttp(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, host: `evil.example:${b.server.address() && new URL(b.url).port}` },
      body: initializeBody(),
    });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({
      error: { code: -32000, message: 'Forbidden: Host not allowed' },
    });
    const local = await rawHttp(b.mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        accept: 'application/json',
        host: `localhost:${new URL(b.url).port}`,
        'mcp-session-id': session,
      },
      body: toolsList(6),
    });
    expect(local.status).toBe(200);
  });

  it('transport: an Accept without application/json or text/event-stream answers 406', async () => {
    await expectError(await post(toolsList(), { accept: 'text/html' }), 406, -32000, /Not Acceptable/);
    await expectError(
      await fetch(b.mcpUrl, { headers: { accept: 'application/json', 'mcp-session-id': session } }),
      406,
      -32000,
      /text\/event-stream/,
    );
  });

  it('transport: a Content-Type other than application/json answers 415', async () => {
    await expectError(
      await post(toolsList(), { 'content-type': 'text/plain' }),
      415,
      -32000,
      /Unsupported Media Type/,
    );
    const withCharset = await post(toolsList(7), {
      'content-type': 'Application/JSON; charset=utf-8',
      accept: 'application/json',
    });
    expect(withCharset.status).toBe(200);
    await withCharset.body?.cancel();
  });

  it('limits: a body over the cap answers 413, with or without Content-Length', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x'.repeat(2000) } },
    });
    await expectError(await post(big), 413, -32000, /Payload Too Large: body exceeds 1024 bytes/);
    // Through the web core directly, as a stream of unknown length.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
        c.close();
      },
    });
    const res = await b.bridge.fetch(
      new Request(b.mcpUrl, {
        method: 'POST',
        headers: { ...POST_HEADERS, 'mcp-session-id': session },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    await expectError(res, 413, -32000, /Payload Too Large/);
  });

  it('json-rpc: a body that is not JSON answers 400 -32700, one that is not JSON-RPC 400 -32600', async () => {
    await expectError(await post('{"jsonrpc":'), 400, -32700, /Parse error/);
    await expectError(await post('{"hello":"world"}'), 400, -32600, /not a JSON-RPC 2.0 message/);
    await expectError(await post('[]'), 400, -32600, /batch must hold 1 to 1000 messages/);
    await expectError(
      await fetch(b.mcpUrl, {
        method: 'POST',
        headers: POST_HEADERS,
        body: `[${initializeBody()},${toolsList()}]`,
      }),
      400,
      -32600,
      /initialize must be sent alone/,
    );
  });

  it('json-rpc: a request id already in flight in the session answers 400 -32600', async () => {
    const dup = await startBridge();
    const sid = await rawSession(dup.mcpUrl);
    const slow = fetch(dup.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, accept: 'application/json', 'mcp-session-id': sid },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'dup',
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300 } },
      }),
    });
    await waitFor(() => dup.bridge.stats().requests === 2);
    const second = await fetch(dup.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid },
      body: toolsList('dup'),
    });
    await expectError(second, 400, -32600, /Request id "dup" is already in use/);
    expect(await (await slow).json()).toMatchObject({
      id: 'dup',
      result: { content: [{ text: 'slept 300ms' }] },
    });
  });

  it('transport: methods other than GET, POST and DELETE answer 405 with Allow', async () => {
    const res = await fetch(b.mcpUrl, { method: 'PUT', headers: { 'mcp-session-id': session } });
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
    await expectError(res, 405, -32000, /Method Not Allowed/);
    await expectError(await fetch(`${b.url}/elsewhere`), 404, -32000, /Not Found/);
  });

  it('transport: notifications and responses answer 202 with no body', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    const resp = await post(JSON.stringify({ jsonrpc: '2.0', id: 'server-1', result: {} }));
    expect(resp.status).toBe(202);
  });

  it('transport: a client accepting only JSON gets application/json, SSE clients get text/event-stream', async () => {
    const json = await post(toolsList(10), { accept: 'application/json' });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(json.headers.get('mcp-session-id')).toBe(session);
    expect(await json.json()).toMatchObject({ jsonrpc: '2.0', id: 10 });
    const sse = await post(toolsList(11));
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    const text = await sse.text();
    // Priming event first (2025-11-25 session), then the answer with the next id of the same stream.
    expect(text).toMatch(
      /^id: (\d+)-0\nretry: 1000\ndata: \n\nevent: message\nid: \1-1\ndata: \{.*"id":11.*\}\n\n$/s,
    );
    const old = await post(toolsList(14), { 'mcp-protocol-version': '2025-06-18' });
    expect(await old.text()).toMatch(/^event: message\ndata: \{.*"id":14.*\}\n\n$/s);
    const batch = await post(`[${toolsList(12)},${toolsList(13)}]`, { accept: 'application/json' });
    const arr = (await batch.json()) as { id: number }[];
    expect(arr.map((m) => m.id).sort()).toEqual([12, 13]);
  });
});

describe('capacity', () => {
  it('limits: a full bridge answers initialize with 503 and Retry-After, and spawns nothing', async () => {
    const full = await startBridge({ maxSessions: 1, retryAfterSeconds: 7 });
    await rawSession(full.mcpUrl);
    const spawns = full.bridge.stats().spawns;
    const res = await fetch(full.mcpUrl, { method: 'POST', headers: POST_HEADERS, body: initializeBody() });
    expect(res.headers.get('retry-after')).toBe('7');
    await expectError(res, 503, -32000, /too many sessions/);
    expect(full.bridge.stats()).toMatchObject({ sessions: 1, spawns });
  });
});
