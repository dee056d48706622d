import type http from 'node:http';
import {
  abandonMidBody,
  fixtureMcpServerCommand,
  listenNode,
  waitFor,
  type Listening,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStdioBridge, type NodeRequestInit, type StdioBridge } from '../src/index.js';
import { LogCapture, POST_HEADERS, initializeBody } from './helpers.js';

/**
 * A node server that hands every request to `bridge.handleNode` with what
 * the test's `initFor` says, the way the gateway calls it. Test requests
 * steer the init through `x-test-*` headers.
 */
let bridge: StdioBridge;
let server: Listening;
let mcpUrl: string;
const results: { status: number; headersSent: boolean }[] = [];
/** What each request's observer (`x-test-observe: <key>`) was told, by key. */
const observed = new Map<string, Readonly<Record<string, unknown>>[]>();
const log = new LogCapture();

const MAX_BODY = 2048;
const RESPONSE_HEADERS = { 'x-request-id': 'req-42', 'access-control-allow-origin': 'https://app.example' };

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function initFor(req: http.IncomingMessage): Promise<NodeRequestInit> {
  const init: NodeRequestInit = {
    // The gateway's pattern: the caller's credentials never reach the transport;
    // the identity is the one the gateway vouches for (here: x-test-as).
    headers:
      req.headers['x-test-upper'] === '1'
        ? // Names in another spelling than lower-case still apply.
          { Authorization: null, 'X-User': (req.headers['x-test-as'] as string | undefined) ?? null }
        : { authorization: null, 'x-user': (req.headers['x-test-as'] as string | undefined) ?? null },
    responseHeaders: RESPONSE_HEADERS,
  };
  const observe = req.headers['x-test-observe'];
  if (typeof observe === 'string') {
    const seen: Readonly<Record<string, unknown>>[] = [];
    observed.set(observe, seen);
    init.observer = {
      onResponse(response) {
        seen.push(response);
        if (req.headers['x-test-observer-throws'] === '1') throw new Error('observer broke');
      },
    };
  }
  if (req.headers['x-test-consume'] === '1') {
    await readAll(req); // the caller read the body and did not pass it on
    return init;
  }
  const replace = req.headers['x-test-body'];
  if (typeof replace === 'string') {
    await readAll(req); // the caller consumed the stream: the bridge must not read it again
    init.body = replace === 'big' ? Buffer.alloc(MAX_BODY + 1, 0x20) : Buffer.from(replace, 'base64');
  }
  if (req.headers['x-test-json'] === '1') {
    // The gateway's pattern: it parsed the body to count tool calls and hands over both.
    const body = await readAll(req);
    init.body = body;
    init.json = JSON.parse(body.toString('utf8'));
  }
  return init;
}

beforeAll(async () => {
  const { command, args } = fixtureMcpServerCommand();
  bridge = createStdioBridge({
    command,
    args,
    identity: 'x-user',
    envFromHeaders: { authorization: 'AUTH_SEEN', 'x-user': 'USER_SEEN' },
    maxBodyBytes: MAX_BODY,
    logger: log.logger,
  });
  server = await listenNode((req, res) => {
    void initFor(req).then(async (init) => {
      const r = await bridge.handleNode(req, res, init);
      results.push({ status: r.status, headersSent: res.headersSent });
    });
  });
  mcpUrl = `${server.url}/mcp`;
});
afterAll(async () => {
  await server.close();
  await bridge.close();
});

const callBody = (id: number | string, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function openSession(as: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-test-as': as, ...extra },
    body: initializeBody(),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

describe('StdioBridge.handleNode', () => {
  it('handleNode: init.headers hide authorization and set the identity before the transport sees them', async () => {
    const sid = await openSession('alice', { authorization: 'Bearer s3cret', 'x-user': 'mallory' });
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        accept: 'application/json',
        'mcp-session-id': sid,
        'x-test-as': 'alice',
        authorization: 'Bearer s3cret',
      },
      body: callBody(2, 'env', { names: ['AUTH_SEEN', 'USER_SEEN'] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { content: { text: string }[] } };
    // The child environment comes from the headers the transport saw.
    expect(JSON.parse(body.result.content[0]!.text)).toEqual({ AUTH_SEEN: null, USER_SEEN: 'alice' });
    // The session is bound to the identity set by init.headers: the client's own x-user does not count.
    const asMallory = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'mallory', 'x-user': 'alice' },
      body: callBody(3, 'echo', { text: 'hi' }),
    });
    expect(asMallory.status).toBe(404);
    expect(await asMallory.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
  });

  it('handleNode: init.headers names in mixed case hide and set the same headers', async () => {
    const upper = { 'x-test-upper': '1' };
    const sid = await openSession('dave', { ...upper, authorization: 'Bearer s3cret', 'x-user': 'mallory' });
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        ...upper,
        accept: 'application/json',
        'mcp-session-id': sid,
        'x-test-as': 'dave',
        authorization: 'Bearer s3cret',
      },
      body: callBody(2, 'env', { names: ['AUTH_SEEN', 'USER_SEEN'] }),
    });
    const body = (await res.json()) as { result: { content: { text: string }[] } };
    expect(JSON.parse(body.result.content[0]!.text)).toEqual({ AUTH_SEEN: null, USER_SEEN: 'dave' });
  });

  it('handleNode: init.body is used instead of reading req, and is held to maxBodyBytes (413)', async () => {
    const sid = await openSession('bob');
    const real = callBody(4, 'echo', { text: 'from init.body' });
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        accept: 'application/json',
        'mcp-session-id': sid,
        'x-test-as': 'bob',
        'x-test-body': Buffer.from(real).toString('base64'),
      },
      body: 'this is not JSON: the bridge must answer init.body',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 4, result: { content: [{ text: 'from init.body' }] } });

    const big = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'bob', 'x-test-body': 'big' },
      body: callBody(5, 'echo', { text: 'small on the wire' }),
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('x-request-id')).toBe('req-42');
    expect(await big.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: `Payload Too Large: body exceeds ${MAX_BODY} bytes` },
    });
  });

  it('handleNode: init.json (the caller parse of init.body) is routed like a parsed body, single and batch', async () => {
    const sid = await openSession('carol');
    const headers = {
      ...POST_HEADERS,
      accept: 'application/json',
      'mcp-session-id': sid,
      'x-test-as': 'carol',
      'x-test-json': '1',
    };
    const one = await fetch(mcpUrl, {
      method: 'POST',
      headers,
      body: callBody(8, 'echo', { text: 'parsed once' }),
    });
    expect(await one.json()).toMatchObject({ id: 8, result: { content: [{ text: 'parsed once' }] } });
    const batch = await fetch(mcpUrl, {
      method: 'POST',
      headers,
      body: `[${callBody(9, 'echo', { text: 'a' })},${callBody(10, 'echo', { text: 'b' })}]`,
    });
    const answers = (await batch.json()) as { id: number }[];
    expect(answers.map((a) => a.id).sort((x, y) => x - y)).toEqual([9, 10]);
  });

  it('handleNode: init.observer is told of each response to its own requests, parsed: results and errors, SSE and JSON, not notifications or other POSTs', async () => {
    const sid = await openSession('erin');
    const headers = { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'erin' };
    // SSE: a batch with a tool call, a request the server refuses, and a notification.
    const sse = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, 'x-test-observe': 'sse' },
      body: JSON.stringify([
        JSON.parse(callBody(20, 'echo', { text: 'seen' })),
        { jsonrpc: '2.0', id: 21, method: 'no/such-method' },
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      ]),
    });
    const other = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json' },
      body: callBody(22, 'echo', { text: 'not observed' }),
    });
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    await sse.text();
    await other.text();
    const seen = observed.get('sse')!;
    expect(seen.map((m) => m.id).sort()).toEqual([20, 21]);
    expect(seen.find((m) => m.id === 20)).toMatchObject({ result: { content: [{ text: 'seen' }] } });
    expect(seen.find((m) => m.id === 21)).toMatchObject({ error: { code: -32601 } });
    // JSON: the same, one request.
    const json = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json', 'x-test-observe': 'json' },
      body: callBody(23, 'echo', { text: 'json' }),
    });
    expect(await json.json()).toMatchObject({ id: 23 });
    expect(observed.get('json')).toEqual([
      expect.objectContaining({
        id: 23,
        result: expect.objectContaining({ content: [{ type: 'text', text: 'json' }] }),
      }),
    ]);
  });

  it('handleNode: a 2026-07-28 request (no session) tells init.observer of its answer, an input_required one included', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
    };
    const post = (key: string, id: number, name: string, args: Record<string, unknown>) =>
      fetch(mcpUrl, {
        method: 'POST',
        headers: {
          ...POST_HEADERS,
          accept: 'application/json',
          'x-test-as': 'gina',
          'x-test-observe': key,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': name,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name, arguments: args, _meta: meta },
        }),
      });
    const echo = await post('modern', 30, 'echo', { text: 'stateless' });
    expect(await echo.json()).toMatchObject({ id: 30, result: { resultType: 'complete' } });
    expect(observed.get('modern')).toEqual([
      expect.objectContaining({ id: 30, result: expect.objectContaining({ resultType: 'complete' }) }),
    ]);
    // MRTR: the observer sees the input_required result as it is (the caller decides what it counts).
    const ask = await post('modern-ask', 31, 'elicit', { message: 'name?' });
    expect(await ask.json()).toMatchObject({ id: 31, result: { resultType: 'input_required' } });
    expect(observed.get('modern-ask')).toEqual([
      expect.objectContaining({ id: 31, result: expect.objectContaining({ resultType: 'input_required' }) }),
    ]);
  });

  it('handleNode: an observer that throws changes nothing for the client: the reply arrives, the failure is logged, the session goes on', async () => {
    const sid = await openSession('frank');
    const headers = {
      ...POST_HEADERS,
      accept: 'application/json',
      'mcp-session-id': sid,
      'x-test-as': 'frank',
    };
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...headers, 'x-test-observe': 'throws', 'x-test-observer-throws': '1' },
      body: callBody(30, 'echo', { text: 'still here' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 30, result: { content: [{ text: 'still here' }] } });
    expect(observed.get('throws')).toHaveLength(1);
    expect(log.find('response observer failed')).toEqual([
      expect.objectContaining({ error: 'observer broke' }),
    ]);
    const next = await fetch(mcpUrl, {
      method: 'POST',
      headers,
      body: callBody(31, 'echo', { text: 'next' }),
    });
    expect(await next.json()).toMatchObject({ id: 31, result: { content: [{ text: 'next' }] } });
  });

  it('handleNode: init.responseHeaders are on SSE, JSON, 202 and error replies; it resolves with the status once headers are out', async () => {
    const sid = await openSession('carol');
    const base = { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'carol' };
    results.length = 0;
    const sse = await fetch(mcpUrl, {
      method: 'POST',
      headers: base,
      body: callBody(6, 'echo', { text: 's' }),
    });
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(await sse.text()).toContain('"text":"s"');
    const json = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...base, accept: 'application/json' },
      body: callBody(7, 'echo', { text: 'j' }),
    });
    expect(json.headers.get('content-type')).toBe('application/json');
    await json.text();
    const accepted = await fetch(mcpUrl, {
      method: 'POST',
      headers: base,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    const missing = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...base, 'mcp-session-id': 'nope' },
      body: callBody(8, 'echo', { text: 'x' }),
    });
    expect(await missing.json()).toMatchObject({ error: { code: -32001 } });
    for (const [res, status] of [
      [sse, 200],
      [json, 200],
      [accepted, 202],
      [missing, 404],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('x-request-id')).toBe('req-42');
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    }
    expect(results).toEqual([
      { status: 200, headersSent: true },
      { status: 200, headersSent: true },
      { status: 202, headersSent: true },
      { status: 404, headersSent: true },
    ]);
  });

  it('handleNode: a body the caller already read and did not pass counts as empty (400 parse error, no hang)', async () => {
    const sid = await openSession('dave');
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'dave', 'x-test-consume': '1' },
      body: callBody(9, 'echo', { text: 'read by the caller' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error: body is not JSON' },
    });
  });
  it('handleNode: a client that leaves in the middle of its body gets nothing written (status 499), and the session goes on', async () => {
    const sid = await openSession('erin');
    const before = results.length;
    await abandonMidBody(server.server, {
      path: '/mcp',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': sid,
        'X-Test-As': 'erin',
      },
      body: callBody(10, 'echo', { text: 'never finished' }),
    });
    await waitFor(() => results.length > before, { message: 'handleNode never resolved' });
    expect(results[before]).toEqual({ status: 499, headersSent: false });
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, accept: 'application/json', 'mcp-session-id': sid, 'x-test-as': 'erin' },
      body: callBody(11, 'echo', { text: 'whole' }),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('whole');
  });
});
