import { fixtureMcpServerCommand, listen, listenNode, waitFor, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStdioBridge,
  toNodeListener,
  type StdioBridge,
  type StdioBridgeOptions,
} from '../src/index.js';
import { LogCapture, POST_HEADERS, closeAll, initializeBody, isRunning, startBridge } from './helpers.js';

/**
 * The main transport behaviours through each way a bridge is served: `serveNode` (the CLI's
 * server: the node edge buffers the body and hands it over as `info.body`), `bridge.fetch` behind
 * testkit's `listen` (the body read from the request), and `toNodeListener` around any fetch
 * handler.
 */
interface Served {
  mcpUrl: string;
  bridge: StdioBridge;
  logs: LogCapture;
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await closeAll();
});

const OPTIONS: Partial<StdioBridgeOptions> = { maxBodyBytes: 1024, identity: 'x-user' };

/** A bridge around the fixture behind a server made from it by `serve`. */
async function served(serve: (bridge: StdioBridge) => Promise<Listening>): Promise<Served> {
  const logs = new LogCapture();
  const bridge = createStdioBridge({ ...fixtureMcpServerCommand(), ...OPTIONS, logger: logs.logger });
  const server = await serve(bridge);
  closers.push(async () => {
    await server.close();
    await bridge.close();
  });
  return { mcpUrl: `${server.url}/mcp`, bridge, logs };
}

const paths: [string, () => Promise<Served>][] = [
  ['node', () => startBridge(OPTIONS)],
  ['fetch', () => served((bridge) => listen(bridge.fetch))],
  [
    'toNodeListener(any fetch handler)',
    () =>
      served((bridge) =>
        listenNode(toNodeListener((request) => bridge.fetch(request), { maxBodyBytes: 1024 })),
      ),
  ],
];

const call = (id: number | string, name: string, args: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** SSE `data:` payloads of a whole body. */
function events(text: string): Record<string, unknown>[] {
  return text
    .split('\n\n')
    .map((e) => /^data: (.+)$/m.exec(e)?.[1])
    .filter((d): d is string => !!d)
    .map((d) => JSON.parse(d) as Record<string, unknown>);
}

/** Reads SSE payloads from a live stream until `count` have arrived. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  count: number,
): Promise<Record<string, unknown>[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const got = events(text.slice(0, text.lastIndexOf('\n\n') + 2));
    if (got.length >= count) {
      await reader.cancel();
      return got;
    }
    const { done, value } = await reader.read();
    if (done) return events(text);
    text += decoder.decode(value, { stream: true });
  }
}

async function expectError(res: Response, status: number, code: number, message: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code, message } });
}

describe.each(paths)('both paths: %s', (name, start) => {
  let s: Served;
  beforeAll(async () => {
    s = await start();
  });
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(s.mcpUrl, { method: 'POST', headers: { ...POST_HEADERS, ...headers }, body });
  async function open(user?: string): Promise<string> {
    const headers: Record<string, string> = user ? { 'x-user': user } : {};
    const res = await post(initializeBody(), headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sid = res.headers.get('mcp-session-id')!;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(events(await res.text())).toMatchObject([{ id: 1, result: { protocolVersion: '2025-11-25' } }]);
    const ack = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
      'mcp-session-id': sid,
      ...headers,
    });
    expect(ack.status).toBe(202);
    expect(await ack.text()).toBe('');
    return sid;
  }

  it(`transport (${name}): initialize and tools/call answer as SSE; notifications answer 202`, async () => {
    const sid = await open();
    const res = await post(call(2, 'echo', { text: 'over sse' }), { 'mcp-session-id': sid });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('mcp-session-id')).toBe(sid);
    const text = await res.text();
    expect(text).toMatch(/^id: \S+\nretry: 1000\ndata: \n\n/); // priming event (2025-11-25)
    expect(events(text)).toMatchObject([{ id: 2, result: { content: [{ text: 'over sse' }] } }]);
  });

  it(`transport (${name}): a client that accepts only JSON gets one application/json answer`, async () => {
    const sid = await open();
    const res = await post(call('j', 'echo', { text: 'over json' }), {
      'mcp-session-id': sid,
      accept: 'application/json',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ id: 'j', result: { content: [{ text: 'over json' }] } });
  });

  it(`transport (${name}): the GET stream carries server messages; a client that disconnects is detached and later messages wait for the next GET`, async () => {
    const sid = await open();
    const getStream = () =>
      fetch(s.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    const jsonNotify = async (id: number) => {
      const res = await post(call(id, 'notify', { message: `m${id}` }), {
        'mcp-session-id': sid,
        accept: 'application/json',
      });
      expect(await res.json()).toMatchObject({ id, result: { content: [{ text: 'notified' }] } });
    };
    const first = await getStream();
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    await jsonNotify(3);
    expect(await readEvents(first.body!, 1)).toMatchObject([
      { method: 'notifications/message', params: { data: 'm3' } },
    ]);
    // readEvents cancelled the body: the connection closes and the bridge detaches the sink.
    await waitFor(() => s.logs.find('client disconnected from stream').some((l) => l.session === sid));
    await jsonNotify(4);
    const second = await getStream();
    expect(await readEvents(second.body!, 1)).toMatchObject([
      { method: 'notifications/message', params: { data: 'm4' } },
    ]);
  });

  it(`transport (${name}): DELETE ends the session and its child; later requests get 404`, async () => {
    const sid = await open();
    const pidRes = await post(call('pid', 'pid'), { 'mcp-session-id': sid, accept: 'application/json' });
    const pid = Number(
      ((await pidRes.json()) as { result: { content: { text: string }[] } }).result.content[0]!.text,
    );
    expect(isRunning(pid)).toBe(true);
    const before = s.bridge.stats().sessions;
    const del = await fetch(s.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(del.status).toBe(200);
    expect(s.bridge.stats().sessions).toBe(before - 1);
    await waitFor(() => !isRunning(pid));
    await expectError(
      await post(call(5, 'echo', { text: 'x' }), { 'mcp-session-id': sid }),
      404,
      -32001,
      'Session not found',
    );
  });

  it(`sse (${name}): an answer larger than the socket buffer arrives whole, then the stream ends`, async () => {
    const sid = await open();
    const res = await post(call('big', 'big', { bytes: 3_000_000 }), { 'mcp-session-id': sid });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const got = events(await res.text());
    expect(got).toHaveLength(1);
    expect((got[0] as { result: { content: { text: string }[] } }).result.content[0]!.text).toHaveLength(
      3_000_000,
    );
  });

  it(`errors (${name}): 404, 400, 406, 415 and 413 carry the exact JSON-RPC error`, async () => {
    const sid = await open();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' });
    await expectError(await post(list, { 'mcp-session-id': 'unknown' }), 404, -32001, 'Session not found');
    await expectError(await post(list), 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    await expectError(
      await post(list, { 'mcp-session-id': sid, accept: 'text/html' }),
      406,
      -32000,
      'Not Acceptable: Accept must list application/json or text/event-stream',
    );
    await expectError(
      await post(list, { 'mcp-session-id': sid, 'content-type': 'text/plain' }),
      415,
      -32000,
      'Unsupported Media Type: Content-Type must be application/json',
    );
    await expectError(
      await post(call(10, 'echo', { text: 'x'.repeat(2000) }), { 'mcp-session-id': sid }),
      413,
      -32000,
      'Payload Too Large: body exceeds 1024 bytes',
    );
    await expectError(
      await post('{not json', { 'mcp-session-id': sid }),
      400,
      -32700,
      'Parse error: body is not JSON',
    );
    // None of it reached the session: it still answers.
    expect((await post(list, { 'mcp-session-id': sid, accept: 'application/json' })).status).toBe(200);
  });

  it(`identity (${name}): a session answers only the identity that opened it; others get 404`, async () => {
    const sid = await open('alice');
    const as = (user: string) =>
      post(call(11, 'echo', { text: 'me' }), { 'mcp-session-id': sid, 'x-user': user });
    const mine = await as('alice');
    expect(mine.status).toBe(200);
    await mine.text();
    await expectError(await as('bob'), 404, -32001, 'Session not found');
  });
});
