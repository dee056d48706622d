import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, connectClient, manualClock, startBridge, textOf } from './helpers.js';
import { SERVED_PROTOCOL_VERSIONS } from '../src/protocol-version.js';
import { V2026, call2026, envelope, readSse, send2026 } from './modern-helpers.js';

// MCP 2026-07-28 stateless requests (SEP-2575, SEP-2567, SEP-2243, SEP-2549, SEP-2322) served
// beside 2025 sessions on one URL, by pooled 2025 stdio children.

afterEach(closeAll);

describe('2026-07-28 wire', () => {
  it('sep-2575: a request without initialize or session id is answered by a pooled child, resultType complete + serverInfo', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('mcp-session-id')).toBeNull();
    expect(r.body.result?.content?.[0]?.text).toBe('hi');
    expect(r.body.result?.resultType).toBe('complete');
    expect(
      (r.body.result?._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo'],
    ).toMatchObject({
      name: 'fixture-mcp-server',
    });
    expect(b.bridge.stats().modernChildren).toBe(1);
    expect(b.bridge.stats().sessions).toBe(0);
  });

  it('sep-2575: the child id space is the bridge\u2019s: two clients using the same id are each answered', async () => {
    const b = await startBridge({ modern: { maxChildrenPerUser: 2 } });
    const [x, y] = await Promise.all([
      send2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, {}, { id: 7 }),
      send2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'y' } }, {}, { id: 7 }),
    ]);
    const texts = [await x.json(), await y.json()].map(
      (m) => m as { id: number; result: { content: { text: string }[] } },
    );
    expect(texts.map((m) => m.id)).toEqual([7, 7]);
    expect(texts.map((m) => m.result.content[0]!.text).sort()).toEqual(['x', 'y']);
  });

  it('sep-2549: lists carry ttlMs and cacheScope private', async () => {
    const b = await startBridge({ modern: { listTtlMs: 5000 } });
    const r = await call2026(b.mcpUrl, 'tools/list');
    expect(r.body.result).toMatchObject({ resultType: 'complete', ttlMs: 5000, cacheScope: 'private' });
    expect((r.body.result?.tools as unknown[]).length).toBeGreaterThan(3);
  });

  it('sep-2575: server/discover answers from the cached initialize result (one child for two discovers)', async () => {
    const b = await startBridge();
    const a = await call2026(b.mcpUrl, 'server/discover');
    const c = await call2026(b.mcpUrl, 'server/discover');
    expect(a.status).toBe(200);
    expect(a.body.result).toMatchObject({
      resultType: 'complete',
      supportedVersions: [...SERVED_PROTOCOL_VERSIONS],
      capabilities: { tools: {} },
      cacheScope: 'private',
    });
    expect(typeof a.body.result?.ttlMs).toBe('number');
    expect(c.body.result).toEqual(a.body.result);
    expect(b.bridge.stats().modernChildren).toBe(1);
  });

  it.each(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe'])(
    'sep-2575: %s on the 2026 wire is 404 -32601',
    async (method) => {
      const b = await startBridge();
      const r = await call2026(b.mcpUrl, method, { uri: 'fixture://greeting', level: 'info' });
      expect(r.status).toBe(404);
      expect(r.body.error?.code).toBe(-32601);
      expect(r.body.id).not.toBeNull();
    },
  );

  it('sep-2575: a missing clientCapabilities (or protocolVersion) in _meta is 400 -32602', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/list', {
      _meta: { 'io.modelcontextprotocol/protocolVersion': V2026 },
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
    const r2 = await call2026(b.mcpUrl, 'tools/list', { _meta: {} });
    expect(r2.status).toBe(400);
    expect(r2.body.error?.code).toBe(-32602);
  });

  it('unsupported protocol version in _meta is 400 -32022 with data.supported', async () => {
    const b = await startBridge();
    const r = await call2026(
      b.mcpUrl,
      'tools/list',
      { _meta: envelope({ 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }) },
      { 'mcp-protocol-version': '2099-01-01' },
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: -32022,
      data: { supported: [...SERVED_PROTOCOL_VERSIONS], requested: '2099-01-01' },
    });
  });

  it('sep-2575: a method the server does not implement is 404 -32601 (the child\u2019s answer, with its status)', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'no/such-method');
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe(-32601);
  });

  it('sep-2243: a _meta version unlike the MCP-Protocol-Version header is -32020 before the version is judged', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'server/discover', {
      _meta: envelope({ 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' }),
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32020);
  });

  it.each([
    ['MCP-Protocol-Version missing', { 'mcp-protocol-version': null }],
    ['Mcp-Method different', { 'mcp-method': 'tools/list' }],
    ['Mcp-Name different', { 'mcp-name': 'add' }],
    ['Mcp-Name missing', { 'mcp-name': null }],
  ])('sep-2243: %s is 400 -32020', async (_what, headers) => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, headers);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32020);
  });

  it('sep-2243: header values are trimmed and =?base64?…?= decoded', async () => {
    const b = await startBridge();
    const r = await call2026(
      b.mcpUrl,
      'tools/call',
      { name: 'echo', arguments: { text: 'x' } },
      { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=`, 'mcp-method': ' tools/call ' },
    );
    expect(r.status).toBe(200);
    expect(r.body.result?.content?.[0]?.text).toBe('x');
  });

  it.each([
    ['Mcp-Method', { 'mcp-method': `=?base64?${Buffer.from('tools/call').toString('base64')}?=` }],
    [
      'MCP-Protocol-Version',
      { 'mcp-protocol-version': `=?base64?${Buffer.from(V2026).toString('base64')}?=` },
    ],
  ])(
    'sep-2243: only Mcp-Name and Mcp-Param-* permit the =?base64?…?= encoding: a %s sent so is compared as sent, 400 -32020',
    async (name, headers) => {
      const b = await startBridge();
      const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, headers);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: -32020, message: expect.stringContaining(name) });
    },
  );

  it('sep-2243: a CORS preflight allows the Mcp-Method and Mcp-Name headers browsers must send', async () => {
    const b = await startBridge({ allowedOrigins: ['https://app.example'] });
    const res = await fetch(b.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-headers')).toMatch(/mcp-method.*mcp-name/);
  });

  it('a batch on the 2026 wire is 400 -32600', async () => {
    const b = await startBridge();
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-protocol-version': V2026,
      },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope() } }]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32600);
  });

  it('progress streams on the request\u2019s own SSE response, then the result', async () => {
    const b = await startBridge();
    const res = await send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 60, steps: 3 }, _meta: envelope({ progressToken: 'p1' }) },
      { accept: 'application/json, text/event-stream' },
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const msgs = await readSse(res);
    const progress = msgs.filter((m) => m.method === 'notifications/progress');
    expect(progress.length).toBe(3);
    expect(msgs.at(-1)).toMatchObject({
      result: { resultType: 'complete', content: [{ text: 'slept 60ms' }] },
    });
  });

  it('notifications/message is streamed only when _meta asks for a logLevel, and at or above it', async () => {
    const b = await startBridge();
    /** The `notifications/message` a `notify` call at `level` streams under `logLevel`. */
    const logged = async (level: string, logLevel?: string) => {
      const meta = logLevel ? envelope({ 'io.modelcontextprotocol/logLevel': logLevel }) : envelope();
      const res = await send2026(
        b.mcpUrl,
        'tools/call',
        { name: 'notify', arguments: { message: 'm', level }, _meta: meta },
        { accept: 'text/event-stream, application/json' },
      );
      return (await readSse(res)).filter((m) => m.method === 'notifications/message');
    };
    expect(await logged('info')).toEqual([]);
    expect(await logged('info', 'debug')).toHaveLength(1);
    expect(await logged('info', 'error')).toEqual([]);
  });

  it('closing the response cancels: the child gets notifications/cancelled and goes back to the pool', async () => {
    const b = await startBridge({ modern: { maxChildrenPerUser: 1 } });
    const ac = new AbortController();
    const res = await send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 30_000, steps: 100 }, _meta: envelope({ progressToken: 't' }) },
      { accept: 'text/event-stream' },
      { signal: ac.signal },
    );
    await readSse(res, (m) => {
      if (m.method === 'notifications/progress') ac.abort();
    }).catch(() => {});
    await vi.waitFor(() =>
      expect(b.logs.find('child stderr').some((l) => String(l.line).startsWith('slow cancelled'))).toBe(true),
    );
    // The single child of this user is free again.
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'again' } });
    expect(r.body.result?.content?.[0]?.text).toBe('again');
  });

  it('a call with nothing to stream turns into an SSE stream soon, so closing it still cancels the child', async () => {
    const b = await startBridge();
    const ac = new AbortController();
    const res = await send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 30_000 } },
      { accept: 'application/json, text/event-stream' },
      { signal: ac.signal },
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    ac.abort();
    await vi.waitFor(() =>
      expect(b.logs.find('child stderr').some((l) => String(l.line).startsWith('slow cancelled'))).toBe(true),
    );
  });

  it('a JSON-only call whose client leaves before the child answers cancels the child; the request counts as 499', async () => {
    const b = await startBridge();
    const ac = new AbortController();
    const pending = send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 30_000 } },
      { accept: 'application/json' },
      { signal: ac.signal },
    ).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    const soon = { timeout: 10_000 };
    await vi.waitFor(
      () => expect(b.logs.find('child stderr').some((l) => l.line === 'slow started')).toBe(true),
      soon,
    );
    ac.abort();
    expect(await pending).toBe('AbortError');
    const cancelled = (l: { line?: unknown }) => String(l.line).startsWith('slow cancelled');
    await vi.waitFor(() => expect(b.logs.find('child stderr').some(cancelled)).toBe(true), soon);
    await vi.waitFor(
      async () =>
        expect(await (await fetch(`${b.url}/metrics`)).text()).toContain(
          'mcp_bridge_http_requests_total{method="POST",status="499"} 1',
        ),
      soon,
    );
    // The child is free again, and the next call is answered (and counted) as usual.
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'next' } });
    expect(r.status).toBe(200);
    expect(r.body.result?.content?.[0]?.text).toBe('next');
    expect(await (await fetch(`${b.url}/metrics`)).text()).toContain(
      'mcp_bridge_http_requests_total{method="POST",status="200"} 1',
    );
  });

  it('the HTTP counter takes the status a late answer settles with (404 for a method the child lacks)', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'nothing/here', {});
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe(-32601);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('mcp_bridge_http_requests_total{method="POST",status="404"} 1');
    expect(metrics).not.toContain('status="200"');
  });

  it('every child request has a deadline: past requestTimeoutMs the client gets -32603 (reason timeout) and the (possibly hung) child is ended', async () => {
    const b = await startBridge({ requestTimeoutMs: 200 });
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'slow', arguments: { ms: 5000 } });
    expect(r.body.error).toMatchObject({ code: -32603, data: { reason: 'timeout' } });
    await vi.waitFor(() => expect(b.bridge.stats().modernChildren).toBe(0));
    const again = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'fresh' } });
    expect(again.body.result?.content?.[0]?.text).toBe('fresh');
  });

  it('a 2025 session still works on the same URL, side by side with 2026 requests', async () => {
    const b = await startBridge();
    const { client } = await connectClient(b.mcpUrl);
    const [old, modern] = await Promise.all([
      client.callTool({ name: 'echo', arguments: { text: 'old' } }),
      call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'new' } }),
    ]);
    expect(textOf(old)).toBe('old');
    expect(modern.body.result?.content?.[0]?.text).toBe('new');
    expect(b.bridge.stats().sessions).toBe(1);
    await client.close();
  });
});

describe('2026-07-28 MRTR (SEP-2322)', () => {
  const elicit = { name: 'elicit', arguments: { message: 'Who are you?' } };

  async function firstRound(url: string, headers: Record<string, string> = {}) {
    const r = await call2026(url, 'tools/call', elicit, headers);
    expect(r.status).toBe(200);
    const result = r.body.result as {
      resultType: string;
      inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
      requestState: string;
    };
    return result;
  }

  it('an elicitation of the child becomes input_required; the retry (new id, inputResponses, requestState) completes', async () => {
    const b = await startBridge();
    const first = await firstRound(b.mcpUrl);
    expect(first.resultType).toBe('input_required');
    const [key, req] = Object.entries(first.inputRequests)[0]!;
    expect(req.method).toBe('elicitation/create');
    expect(req.params.message).toBe('Who are you?');
    const retry = await call2026(b.mcpUrl, 'tools/call', {
      ...elicit,
      inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
      requestState: first.requestState,
    });
    expect(retry.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'hello Ada' }] });
  });

  it('inputs the child asks for at once come in one input_required; the retry answers both', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'elicit-two' });
    const first = r.body.result as {
      resultType: string;
      inputRequests: Record<string, { params: { message: string } }>;
      requestState: string;
    };
    expect(first.resultType).toBe('input_required');
    const byMessage = Object.fromEntries(
      Object.entries(first.inputRequests).map(([k, v]) => [v.params.message, k]),
    );
    expect(Object.keys(byMessage).sort()).toEqual(['First name?', 'Last name?']);
    const retry = await call2026(b.mcpUrl, 'tools/call', {
      name: 'elicit-two',
      inputResponses: {
        [byMessage['First name?']!]: { action: 'accept', content: { name: 'Ada' } },
        [byMessage['Last name?']!]: { action: 'accept', content: { name: 'Lovelace' } },
      },
      requestState: first.requestState,
    });
    expect(retry.body.result).toMatchObject({
      resultType: 'complete',
      content: [{ text: 'hello Ada Lovelace' }],
    });
  });

  it('the retry is served by any instance sharing the key (the state is self-contained)', async () => {
    const key = 'k'.repeat(32);
    const one = await startBridge({ modern: { requestStateKey: key } });
    const two = await startBridge({ modern: { requestStateKey: key } });
    const first = await firstRound(one.mcpUrl);
    const k = Object.keys(first.inputRequests)[0]!;
    const retry = await call2026(two.mcpUrl, 'tools/call', {
      ...elicit,
      inputResponses: { [k]: { action: 'accept', content: { name: 'Bob' } } },
      requestState: first.requestState,
    });
    expect(retry.body.result?.content?.[0]?.text).toBe('hello Bob');
  });

  it('a retry without the input is asked again (input_required)', async () => {
    const b = await startBridge();
    const first = await firstRound(b.mcpUrl);
    const again = await call2026(b.mcpUrl, 'tools/call', { ...elicit, requestState: first.requestState });
    expect(again.body.result?.resultType).toBe('input_required');
  });

  it.each([
    ['tampered', (s: string) => s.slice(0, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6)],
    ['garbage', () => 'not-a-state'],
  ])('a %s requestState is 400 -32602', async (_what, mutate) => {
    const b = await startBridge();
    const first = await firstRound(b.mcpUrl);
    const r = await call2026(b.mcpUrl, 'tools/call', {
      ...elicit,
      inputResponses: { 'input-0': { action: 'accept', content: { name: 'x' } } },
      requestState: mutate(first.requestState),
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('another user\u2019s requestState is 400 -32602', async () => {
    const b = await startBridge({ identity: 'x-user' });
    const first = await firstRound(b.mcpUrl, { 'x-user': 'alice' });
    const r = await call2026(
      b.mcpUrl,
      'tools/call',
      {
        ...elicit,
        inputResponses: { 'input-0': { action: 'accept', content: { name: 'x' } } },
        requestState: first.requestState,
      },
      { 'x-user': 'mallory' },
    );
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('an inputResponses entry that is not an object is 400 -32602', async () => {
    const b = await startBridge();
    const first = await firstRound(b.mcpUrl);
    const k = Object.keys(first.inputRequests)[0]!;
    const r = await call2026(b.mcpUrl, 'tools/call', {
      ...elicit,
      inputResponses: { [k]: 'accept' },
      requestState: first.requestState,
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('a requestState for other params is 400 -32602', async () => {
    const b = await startBridge();
    const first = await firstRound(b.mcpUrl);
    const r = await call2026(b.mcpUrl, 'tools/call', {
      name: 'elicit',
      arguments: { message: 'something else' },
      requestState: first.requestState,
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('an expired requestState is 400 -32602', async () => {
    const clock = manualClock();
    const b = await startBridge({ clock, modern: { requestStateTtlMs: 1000 } });
    const first = await firstRound(b.mcpUrl);
    clock.advance(1001);
    const r = await call2026(b.mcpUrl, 'tools/call', {
      ...elicit,
      inputResponses: { 'input-0': { action: 'accept', content: { name: 'x' } } },
      requestState: first.requestState,
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('the client is never asked for what clientCapabilities did not declare: -32021, HTTP 400 even when SSE was acceptable', async () => {
    const b = await startBridge();
    const r = await call2026(
      b.mcpUrl,
      'tools/call',
      { ...elicit, _meta: envelope({ 'io.modelcontextprotocol/clientCapabilities': {} }) },
      { accept: 'application/json, text/event-stream' },
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { elicitation: {} } },
    });
  });
});

describe('MCP SDK 2.x client through the bridge', () => {
  it.each([
    ['pinned to 2026-07-28', { pin: V2026 } as const],
    ['in auto mode', 'auto' as const],
  ])(
    '%s: negotiates 2026, lists and calls tools, including the elicitation tool (MRTR)',
    async (_what, mode) => {
      const b = await startBridge();
      const client = new ClientV2(
        { name: 'sdk2', version: '1' },
        { capabilities: { elicitation: {} }, versionNegotiation: { mode } },
      );
      client.setRequestHandler('elicitation/create', async () => ({
        action: 'accept',
        content: { name: 'SDK' },
      }));
      await client.connect(new TransportV2(new URL(b.mcpUrl)));
      try {
        expect(client.getProtocolEra()).toBe('modern');
        const tools = await client.listTools();
        expect(tools.tools.map((t) => t.name)).toContain('elicit');
        const echo = await client.callTool({ name: 'echo', arguments: { text: 'via sdk2' } });
        expect((echo.content[0] as { text: string }).text).toBe('via sdk2');
        const hello = await client.callTool({ name: 'elicit', arguments: { message: 'name?' } });
        expect((hello.content[0] as { text: string }).text).toBe('hello SDK');
        expect(b.bridge.stats().sessions).toBe(0);
      } finally {
        await client.close();
      }
    },
  );

  it('SDK 2.x (2026) and SDK 1.x (2025 session) clients at once, each calling the elicitation/sampling tools', async () => {
    const b = await startBridge();
    const modern = new ClientV2(
      { name: 'sdk2', version: '1' },
      { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: V2026 } } },
    );
    modern.setRequestHandler('elicitation/create', async () => ({
      action: 'accept',
      content: { name: 'new' },
    }));
    await modern.connect(new TransportV2(new URL(b.mcpUrl)));
    const { client: old } = await connectClient(b.mcpUrl);
    try {
      const [a, c] = await Promise.all([
        modern.callTool({ name: 'elicit', arguments: { message: 'q' } }),
        old.callTool({ name: 'sample', arguments: { prompt: 'old' } }),
      ]);
      expect((a.content[0] as { text: string }).text).toBe('hello new');
      expect(textOf(c)).toBe('sampled: old');
      expect(b.bridge.stats().sessions).toBe(1);
    } finally {
      await modern.close();
      await old.close();
    }
  });
});
