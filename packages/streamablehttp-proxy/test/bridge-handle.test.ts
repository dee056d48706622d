import {
  abandonMidBody,
  fixtureMcpServerCommand,
  listen,
  waitFor,
  type Listening,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStdioBridge, type BridgeCaller, type RequestView, type StdioBridge } from '../src/index.js';
import { LogCapture, POST_HEADERS, initializeBody } from './helpers.js';

/**
 * A server that hands every request to `bridge.handle` the way the gateway calls it: the view
 * hides the caller's credentials, the caller is the identity the embedder vouches for (here:
 * `x-test-as`). Test requests steer the view through `x-test-*` headers.
 */
let bridge: StdioBridge;
let server: Listening;
let mcpUrl: string;
const results: { status: number }[] = [];
/** What each request's observer (`x-test-observe: <key>`) was told, by key. */
const observed = new Map<string, Readonly<Record<string, unknown>>[]>();
const log = new LogCapture();

const MAX_BODY = 2048;
const RESPONSE_HEADERS = { 'x-request-id': 'req-42', 'access-control-allow-origin': 'https://app.example' };

/** The status a request gets recorded with when its client left before its body was read. */
const CLIENT_CLOSED = 499;

async function viewFor(request: Request): Promise<RequestView> {
  const h = (name: string) => request.headers.get(name);
  const view: RequestView = {
    method: request.method,
    url: request.url,
    // The gateway's pattern: the caller's credentials never reach the transport.
    header: (name) => (name === 'authorization' ? null : h(name)),
    body: undefined,
  };
  const observe = h('x-test-observe');
  if (observe !== null) {
    const seen: Readonly<Record<string, unknown>>[] = [];
    observed.set(observe, seen);
    view.observer = {
      onResponse(response) {
        seen.push(response);
        if (h('x-test-observer-throws') === '1') throw new Error('observer broke');
      },
    };
  }
  const wire = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
  // x-test-consume: the embedder read the body and did not pass it on.
  if (h('x-test-consume') === '1') return view;
  const replace = h('x-test-body');
  if (replace !== null) {
    view.body = replace === 'big' ? Buffer.alloc(MAX_BODY + 1, 0x20) : Buffer.from(replace, 'base64');
    return view;
  }
  // x-test-json: 2, an in-process caller's message, never serialised: view.json without a body.
  if (h('x-test-json') === '2' && wire) {
    view.json = JSON.parse(Buffer.from(wire).toString('utf8'));
    return view;
  }
  view.body = wire;
  // The gateway's pattern: it parsed the body to count tool calls and hands over both.
  if (h('x-test-json') === '1' && wire) view.json = JSON.parse(Buffer.from(wire).toString('utf8'));
  return view;
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
  server = await listen(async (request) => {
    let view: RequestView;
    try {
      view = await viewFor(request);
    } catch (err) {
      results.push({ status: CLIENT_CLOSED });
      throw err;
    }
    const as = request.headers.get('x-test-as');
    const caller: BridgeCaller | undefined =
      as === null ? undefined : { identity: as, env: { USER_SEEN: as } };
    const res = await bridge.handle(view, caller);
    for (const [k, v] of Object.entries(RESPONSE_HEADERS)) res.headers.set(k, v);
    results.push({ status: res.status });
    return res;
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

describe('StdioBridge.handle (an embedder that authenticated the request)', () => {
  it('handle: the view hides authorization and the caller sets identity and env; the client cannot choose either', async () => {
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
    // The session is bound to the caller's identity: the client's own x-user does not count.
    const asMallory = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'x-test-as': 'mallory', 'x-user': 'alice' },
      body: callBody(3, 'echo', { text: 'hi' }),
    });
    expect(asMallory.status).toBe(404);
    expect(await asMallory.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
  });

  it('handle: credentials sent in another spelling stay hidden, the caller still decides', async () => {
    const upper = { Authorization: 'Bearer s3cret', 'X-User': 'mallory' };
    const sid = await openSession('dave', upper);
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        ...upper,
        accept: 'application/json',
        'mcp-session-id': sid,
        'x-test-as': 'dave',
      },
      body: callBody(2, 'env', { names: ['AUTH_SEEN', 'USER_SEEN'] }),
    });
    const body = (await res.json()) as { result: { content: { text: string }[] } };
    expect(JSON.parse(body.result.content[0]!.text)).toEqual({ AUTH_SEEN: null, USER_SEEN: 'dave' });
  });

  it('handle: view.body is what the bridge reads (not the wire), and is held to maxBodyBytes (413)', async () => {
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
      body: 'this is not JSON: the bridge must answer view.body',
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

  it('handle: view.json (the caller parse of view.body) is routed like a parsed body, single and batch', async () => {
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

  it("handle: view.json without a body (an in-process caller's message) is served as that message", async () => {
    const sid = await openSession('carol');
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        accept: 'application/json',
        'mcp-session-id': sid,
        'x-test-as': 'carol',
        'x-test-json': '2',
      },
      body: callBody(12, 'echo', { text: 'never serialised' }),
    });
    expect(await res.json()).toMatchObject({ id: 12, result: { content: [{ text: 'never serialised' }] } });
  });

  it('handle: view.observer is told of each response to its own requests, parsed: results and errors, SSE and JSON, not notifications or other POSTs', async () => {
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

  it('handle: a 2026-07-28 request (no session) tells view.observer of its answer, an input_required one included', async () => {
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

  it('handle: an observer that throws changes nothing for the client: the reply arrives, the failure is logged, the session goes on', async () => {
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

  it('handle: headers the embedder adds to the answer are on SSE, JSON, 202 and error replies; it resolves with the status', async () => {
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
    expect(results).toEqual([{ status: 200 }, { status: 200 }, { status: 202 }, { status: 404 }]);
  });

  it('handle: a body the embedder read and did not pass counts as empty (400 parse error, no hang)', async () => {
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
  it('edge: a client that leaves in the middle of its body gets nothing served, and the session goes on', async () => {
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
    await waitFor(() => results.length > before, { message: 'the handler never settled' });
    expect(results[before]).toEqual({ status: CLIENT_CLOSED });
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, accept: 'application/json', 'mcp-session-id': sid, 'x-test-as': 'erin' },
      body: callBody(11, 'echo', { text: 'whole' }),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('whole');
  });
});
