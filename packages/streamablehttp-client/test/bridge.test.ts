import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, waitFor } from '@mcp-gateway/testkit';
import {
  StdioBridge,
  JSONRPC_ERRORS,
  createAuthFetch,
  withRequestDeadline,
  type FetchLike,
} from '../src/index.js';
import { startMcpServer } from './helpers/mcp-server.js';
import { startCuttingServer } from './helpers/cutting-server.js';
import { startLateGetServer } from './helpers/late-get-server.js';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';
import { slowLaterSignIns } from './helpers/flow.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';

type Msg = Record<string, unknown> & {
  id?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function startBridge(url: string, fetchFn?: FetchLike) {
  const input = new PassThrough();
  const output = new PassThrough();
  const messages: Msg[] = [];
  let buffer = '';
  output.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim()) messages.push(JSON.parse(line) as Msg);
    }
  });
  const bridge = new StdioBridge({
    url: new URL(url),
    input,
    output,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
  const done = bridge.run();
  closers.push(async () => {
    input.end();
    await done;
  });
  const send = (m: Record<string, unknown>) => input.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
  const answer = async (id: unknown): Promise<Msg> =>
    (await waitFor(
      () => messages.find((m) => JSON.stringify(m.id) === JSON.stringify(id) && !('method' in m)),
      {
        timeoutMs: 15_000,
        message: `no answer to ${JSON.stringify(id)}`,
      },
    ))!;
  const request = async (id: unknown, method: string, params: Record<string, unknown> = {}) => {
    send({ id, method, params });
    return answer(id);
  };
  const initialize = async () => {
    const r = await request(0, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'test-host', version: '1' },
    });
    send({ method: 'notifications/initialized' });
    return r;
  };
  return { input, messages, send, request, answer, initialize, done, end: () => input.end() };
}

describe('stdio bridge ⇄ Streamable HTTP (MCP SDK server)', () => {
  for (const jsonResponse of [false, true]) {
    it(`bridge: requests pass through with ${jsonResponse ? 'JSON' : 'SSE'} answers; MCP-Protocol-Version follows initialize`, async () => {
      const s = await startMcpServer({ jsonResponse });
      closers.push(() => s.close());
      const b = startBridge(s.mcpUrl);
      const init = await b.initialize();
      expect(init.result?.protocolVersion).toBe('2025-06-18');
      const list = await b.request(1, 'tools/list');
      expect((list.result?.tools as Array<{ name: string }>).map((t) => t.name)).toContain('echo');
      const call = await b.request('call-2', 'tools/call', { name: 'echo', arguments: { message: 'hi' } });
      expect(call.result?.content).toEqual([{ type: 'text', text: 'hi' }]);
      // First the era probe (server/discover, refused by this 2025-only server), then 2025 with a session.
      expect(s.endpoint.seen[0]).toMatchObject({ method: 'POST', rpcMethod: 'server/discover' });
      const afterInit = s.endpoint.seen.filter(
        (r) => r.method === 'POST' && r.rpcMethod !== 'initialize' && r.rpcMethod !== 'server/discover',
      );
      expect(afterInit.length).toBeGreaterThan(0);
      expect(afterInit.every((r) => r.protocolVersion === '2025-06-18' && r.sessionId)).toBe(true);
    });
  }

  it('bridge: server notifications on the POST SSE stream reach the host before the answer', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    const answer = await b.request(7, 'tools/call', { name: 'progress', arguments: { steps: 3 } });
    expect(answer.result?.content).toEqual([{ type: 'text', text: 'done 3' }]);
    const idx = b.messages.indexOf(answer);
    const logs = b.messages.slice(0, idx).filter((m) => m.method === 'notifications/message');
    expect(logs.map((m) => (m.params as { data: string }).data)).toEqual(['step 1', 'step 2', 'step 3']);
  });

  it('bridge: notifications get no reply, and every request exactly one', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    b.send({ method: 'notifications/roots/list_changed' });
    await Promise.all([1, 2, 3, 4, 5].map((id) => b.request(id, 'ping')));
    await b.request(6, 'tools/list');
    const ids = b.messages.filter((m) => !('method' in m)).map((m) => m.id);
    expect(ids.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('bridge: 404 after a server restart → initialize is replayed on a new session and the request retried once', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    const [firstSession] = s.endpoint.sessionIds();
    s.endpoint.dropSessions();
    const [a, c] = await Promise.all([
      b.request(10, 'tools/call', { name: 'echo', arguments: { message: 'after restart' } }),
      b.request(11, 'tools/list'),
    ]);
    expect(a, JSON.stringify(a)).toHaveProperty('result.content', [{ type: 'text', text: 'after restart' }]);
    expect(c.result?.tools).toBeDefined();
    const inits = s.endpoint.seen.filter((r) => r.rpcMethod === 'initialize');
    expect(inits).toHaveLength(2);
    const [secondSession] = s.endpoint.sessionIds();
    expect(secondSession).not.toBe(firstSession);
    // The host saw one initialize answer, and one answer per request.
    expect(b.messages.filter((m) => m.id === 0)).toHaveLength(1);
    expect(b.messages.filter((m) => m.id === 10)).toHaveLength(1);
    expect(b.messages.filter((m) => m.id === 11)).toHaveLength(1);
    expect(
      s.endpoint.seen.some(
        (r) => r.rpcMethod === 'notifications/initialized' && r.sessionId === secondSession,
      ),
    ).toBe(true);
  });

  it('bridge: closing stdin ends the session with DELETE', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    const [sid] = s.endpoint.sessionIds();
    b.end();
    await b.done;
    expect(s.endpoint.deleted).toEqual([sid]);
  });

  it('bridge: a line that is not JSON gets -32700 with id null; an invalid request -32600 with its id', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    b.input.write('{not json\n');
    b.send({ id: 5, method: 42 });
    await waitFor(() => b.messages.length >= 2);
    expect(b.messages[0]).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: JSONRPC_ERRORS.parseError, message: 'Parse error' },
    });
    expect(b.messages[1]).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: JSONRPC_ERRORS.invalidRequest, message: 'Invalid Request' },
    });
  });

  it('bridge: an unreachable server answers each request once with -32000 naming the cause', async () => {
    const dead = await listen(() => new Response('x'));
    const url = `${dead.url}/mcp`;
    await dead.close();
    const b = startBridge(url);
    const init = await b.request(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    });
    expect(init.error?.code).toBe(JSONRPC_ERRORS.upstreamError);
    expect(init.error?.message).toMatch(/cannot reach .*ECONNREFUSED/);
    b.send({ method: 'notifications/initialized' });
    await b.request(2, 'ping');
    expect(b.messages.map((m) => m.id)).toEqual([1, 2]);
  });

  it('bridge: an HTML error page becomes a short -32000 message with the HTTP status, not the page', async () => {
    const html = await listen(
      () =>
        new Response(
          '<!doctype html><html><head><title>502 Bad Gateway</title></head><body>' +
            'x'.repeat(5000) +
            '</body></html>',
          {
            status: 502,
            headers: { 'content-type': 'text/html' },
          },
        ),
    );
    closers.push(() => html.close());
    const b = startBridge(`${html.url}/mcp`);
    const init = await b.request(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    });
    expect(init.error?.code).toBe(JSONRPC_ERRORS.upstreamError);
    expect(init.error?.message).toBe(
      `${html.url}/mcp answered HTTP 502 with an HTML page ("502 Bad Gateway")`,
    );
    expect((init.error as { data?: unknown }).data).toEqual({
      kind: 'server',
      code: 'http_502',
      status: 502,
    });
  });

  it('bridge: a 401 without credentials answers -32001 (auth), distinct from server failures', async () => {
    const locked = await listen(
      () =>
        new Response('{"error":"invalid_token"}', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="x"', 'content-type': 'application/json' },
        }),
    );
    closers.push(() => locked.close());
    const b = startBridge(`${locked.url}/mcp`, createAuthFetch());
    const init = await b.request(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    });
    expect(init.error?.code).toBe(JSONRPC_ERRORS.unauthorized);
    expect(init.error?.message).toMatch(
      /requires authorization \(HTTP 401\); use --oauth2, --token or --header/,
    );
  });

  it('bridge: server → host requests (roots/list) go to stdout and the host answer goes back to the server', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    b.send({ id: 'r1', method: 'tools/call', params: { name: 'roots', arguments: {} } });
    const ask = (await waitFor(() => b.messages.find((m) => m.method === 'roots/list')))!;
    b.send({ id: ask.id, result: { roots: [{ uri: 'file:///work', name: 'work' }] } });
    const answer = await b.answer('r1');
    expect(answer.result?.content).toEqual([{ type: 'text', text: 'file:///work' }]);
  });

  it('bridge: the GET stream carries server notifications outside any request', async () => {
    const s = await startMcpServer();
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    await waitFor(() => s.endpoint.seen.some((r) => r.method === 'GET' && r.sessionId));
    s.endpoint.servers[0]!.sendToolListChanged();
    const note = (await waitFor(() =>
      b.messages.find((m) => m.method === 'notifications/tools/list_changed'),
    ))!;
    expect(note).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  });

  it('bridge: an SSE answer cut off after its priming event is resumed with GET + Last-Event-ID', async () => {
    const gets: Array<string | null> = [];
    const sse = (body: string) =>
      new Response(body, { headers: { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' } });
    const server = await listen(async (req) => {
      if (req.method === 'GET') {
        gets.push(req.headers.get('last-event-id'));
        if (req.headers.get('last-event-id') === 'ev-1') {
          return sse('id: ev-2\ndata: {"jsonrpc":"2.0","id":2,"result":{"resumed":true}}\n\n');
        }
        return new Response(null, { status: 405 });
      }
      if (req.method === 'DELETE') return new Response(null, { status: 200 });
      const msg = (await req.json()) as { id?: number; method: string };
      if (msg.method === 'server/discover')
        // What a 2025 server answers a request without a session (the era probe).
        return Response.json(
          { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID' } },
          { status: 400 },
        );
      if (msg.method === 'initialize') {
        return Response.json(
          {
            jsonrpc: '2.0',
            id: msg.id,
            result: {
              protocolVersion: '2025-06-18',
              capabilities: {},
              serverInfo: { name: 'cut', version: '1' },
            },
          },
          { headers: { 'mcp-session-id': 's1' } },
        );
      }
      if (msg.id === undefined) return new Response(null, { status: 202 });
      // A priming event (id, retry, empty data), then the stream ends before the answer.
      return sse('id: ev-1\nretry: 10\ndata: \n\n');
    });
    closers.push(() => server.close());
    const b = startBridge(`${server.url}/mcp`);
    await b.initialize();
    const answer = await b.request(2, 'tools/list');
    expect(answer.result).toEqual({ resumed: true });
    expect(gets).toContain('ev-1');
    expect(b.messages.filter((m) => m.id === 2)).toHaveLength(1);
  });
});

describe('stdio bridge: the standalone GET stream is open before the requests after notifications/initialized', () => {
  it('2025-11-25 streamable HTTP: a server request sent on the GET stream while a tools/call is running reaches the host, however late the GET is answered', async () => {
    const s = await startLateGetServer(300);
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    b.send({ id: 1, method: 'tools/call', params: { name: 'ask', arguments: {} } });
    const ask = (await waitFor(() => b.messages.find((m) => m.method === 'elicitation/create'), {
      timeoutMs: 5000,
      message: 'the elicitation/create never reached the host',
    }))!;
    b.send({ id: ask.id, result: { action: 'accept', content: { name: 'Ada' } } });
    const answer = await b.answer(1);
    expect(answer.result).toEqual({
      content: [{ type: 'text', text: JSON.stringify({ action: 'accept', content: { name: 'Ada' } }) }],
    });
    expect(s.log.indexOf('GET answered')).toBeLessThan(s.log.indexOf('POST tools/call'));
  });

  it('2025-11-25 streamable HTTP: a step-up for the GET stream slower than the wait for it does not run the wait down; the next request goes after the stream is open', async () => {
    const s = await startSdkOAuthServer({ requiredScopes: ['mcp:tools'], streamScope: 'admin' });
    closers.push(() => s.close());
    // The user signs in at once the first time; the step-up the GET stream needs takes 1.5 s.
    const { session, signIns } = slowLaterSignIns(s.mcpUrl, 1500);
    const b = runBridge({
      url: new URL(s.mcpUrl),
      fetch: createAuthFetch({ session, fetch: withRequestDeadline((input, init) => fetch(input, init)) }),
      protocol: '2025-11-25',
      standaloneStreamTimeoutMs: 500,
    });
    closers.push(() => b.stop());
    expect(await b.request(0, 'initialize', HOST_INIT)).toHaveProperty('result.protocolVersion');
    b.send({ method: 'notifications/initialized' });
    const answer = await b.request(1, 'tools/call', { name: 'echo', arguments: { message: 'hi' } });
    expect(answer).toHaveProperty('result.content', [{ type: 'text', text: 'hi' }]);
    expect(signIns).toHaveLength(2);
    const order = s.endpoint.seen.map((r) => r.rpcMethod ?? r.method);
    expect(order.indexOf('GET')).toBeGreaterThan(0);
    expect(order.indexOf('GET')).toBeLessThan(order.indexOf('tools/call'));
  });

  it('2025-11-25 streamable HTTP: a server without a GET stream (405) delays nothing', async () => {
    const s = await startCuttingServer(() => 'answer');
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    const started = Date.now();
    expect((await b.request(1, 'tools/list')).result).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(s.gets).toEqual([null]);
  });
});

describe('stdio bridge: every request gets exactly one answer, also when the answer stream is lost', () => {
  /** Ends the bridge, then the number of answers (responses, not server requests) per id. */
  async function answersPerId(b: ReturnType<typeof startBridge>) {
    b.end();
    await b.done;
    const counts: Record<string, number> = {};
    for (const m of b.messages) {
      if ('method' in m) continue;
      const k = JSON.stringify(m.id);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
  }

  it('stream lost: an SSE answer that ends, or whose connection is cut, before the response and without an event id gets one -32000 stream_ended error', async () => {
    const s = await startCuttingServer((m) =>
      m === 'test/end' ? 'end' : m === 'test/cut' ? 'cut' : 'answer',
    );
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    b.send({ id: 'e', method: 'test/end' });
    b.send({ id: 'c', method: 'test/cut' });
    b.send({ id: 'ok', method: 'test/answer' });
    const [ended, cut, ok] = await Promise.all([b.answer('e'), b.answer('c'), b.answer('ok')]);
    const expected = {
      code: JSONRPC_ERRORS.upstreamError,
      message: `${s.mcpUrl} ended the stream before it answered (no event id to resume from); retry the request`,
      data: { kind: 'server', code: 'stream_ended' },
    };
    expect(ended.error).toEqual(expected);
    expect(cut.error).toEqual(expected);
    expect(ok.result).toEqual({ ok: true });
    // What the server sent before the end still reached the host, before the error.
    const notes = b.messages.filter((m) => m.method === 'notifications/message');
    expect(notes.map((m) => (m.params as { data: string }).data).sort()).toEqual([
      'working on c',
      'working on e',
    ]);
    expect(
      b.messages.indexOf(notes.find((m) => (m.params as { data: string }).data === 'working on e')!),
    ).toBeLessThan(b.messages.indexOf(ended));
    // The bridge keeps working, and its end-of-stream markers never reach the host.
    expect((await b.request('after', 'test/answer')).result).toEqual({ ok: true });
    expect(await answersPerId(b)).toEqual({ '0': 1, '"e"': 1, '"c"': 1, '"ok"': 1, '"after"': 1 });
    expect(b.messages.filter((m) => String(m.method).includes('stream-ended'))).toEqual([]);
  });

  it('stream lost: a resumable answer whose resume is refused (405) or fails maxRetries times gets one -32000 resume_failed error; a resume that works answers', async () => {
    const s = await startCuttingServer(
      () => 'prime',
      (last) => (last === 'ev-1' ? 405 : last === 'ev-2' ? 500 : 'answer'),
    );
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    b.send({ id: 1, method: 'test/prime' });
    b.send({ id: 2, method: 'test/prime' });
    b.send({ id: 3, method: 'test/prime' });
    const [refused, failing, resumed] = await Promise.all([b.answer(1), b.answer(2), b.answer(3)]);
    expect(refused.error).toEqual({
      code: JSONRPC_ERRORS.upstreamError,
      message: `${s.mcpUrl} ended the stream before it answered, and resuming it failed (HTTP 405); retry the request`,
      data: { kind: 'server', code: 'resume_failed' },
    });
    expect(failing.error).toEqual({
      code: JSONRPC_ERRORS.upstreamError,
      message: `${s.mcpUrl} ended the stream before it answered, and resuming it failed (HTTP 500); retry the request`,
      data: { kind: 'server', code: 'resume_failed' },
    });
    expect(resumed.result).toEqual({ resumed: true });
    expect(await answersPerId(b)).toEqual({ '0': 1, '1': 1, '2': 1, '3': 1 });
    // Resumes went out with Last-Event-ID; the failing one was tried as often as the transport retries (2).
    expect(s.gets.filter((g) => g === 'ev-1')).toHaveLength(1);
    expect(s.gets.filter((g) => g === 'ev-2')).toHaveLength(2);
    expect(s.gets.filter((g) => g === 'ev-3')).toHaveLength(1);
  });

  it('no answer: a request answered with HTTP 202, or with JSON for another id, gets one -32000 no_answer error', async () => {
    const s = await startCuttingServer((m) => (m === 'test/accept' ? 'accept' : 'json-other'));
    closers.push(() => s.close());
    const b = startBridge(s.mcpUrl);
    await b.initialize();
    const [accepted, other] = await Promise.all([
      b.request('a', 'test/accept'),
      b.request('j', 'test/json-other'),
    ]);
    expect(accepted.error).toEqual({
      code: JSONRPC_ERRORS.upstreamError,
      message: `${s.mcpUrl} accepted the request with HTTP 202 and will not answer it`,
      data: { kind: 'server', code: 'no_answer' },
    });
    expect(other.error).toEqual({
      code: JSONRPC_ERRORS.upstreamError,
      message: `${s.mcpUrl} answered with JSON that did not contain the response to this request`,
      data: { kind: 'server', code: 'no_answer' },
    });
    expect(await answersPerId(b)).toEqual({ '0': 1, '"a"': 1, '"j"': 1 });
  });
});
