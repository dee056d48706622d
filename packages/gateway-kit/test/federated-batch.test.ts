// Issue 20, JSON-RPC batches on a federated endpoint: MCP 2025-03-26 sessions may POST an
// array of messages (2025-06-18 removed batches, 2026-07-28 never had them). Each element takes
// the single-message path (routing to its member: a real stdio child and the built-in fetch
// service; the endpoint's per-tool policy, refusals audited); the answer is the array of the
// responses, in the batch's order. Malformed and out-of-revision batches get the direct path's
// refusals. At most BATCH_CONCURRENCY elements of a batch are in flight (serveBatch with the
// endpoint side in process, so that what is in flight is exact).
import { fixtureMcpServerCommand, listen, rawSession, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import { FederatedSession } from '../src/federation/sessions.js';
import type { Gateway } from '../src/gateway/create.js';
import { BATCH_CONCURRENCY, serveBatch, type BatchHost } from '../src/gateway/routes/federated-batch.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let page: Listening;
let token: string;

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  ({ gw, url: base } = await listeningGateway({
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
    },
    federated: [{ path: '/mcp', services: ['fetch', 'fixture'], prefix: 'always' }],
    policies: {
      endpoints: {
        mcp: {
          default: 'allow',
          rules: [{ effect: 'deny', tools: ['fixture__add'], reason: 'no adding here' }],
        },
      },
    },
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/mcp')).access_token;
});

afterAll(async () => {
  await page?.close();
});

const BASE_HEADERS = () => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
});

/** Opens a federated 2025 session of `version`; returns the headers of its requests. */
const session = (version: string) => rawSession(`${base}/mcp`, token, version);

const post = (headers: Record<string, string>, body: unknown) =>
  fetch(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify(body) });

interface Answer {
  jsonrpc: string;
  id: unknown;
  result?: { tools?: Array<{ name: string }>; content?: Array<{ text: string }> };
  error?: { code: number; message: string; data?: unknown };
}

/** The policy refusals of the endpoint counted on /metrics. */
async function denials(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith('mcp_gateway_policy_denials_total{target="endpoint",name="mcp",decision="deny"}'),
    );
  return Number(line?.split(' ').pop() ?? 0);
}

/** Expects a whole-batch refusal: HTTP `status` and a JSON-RPC error `code` whose message matches. */
async function refused(res: Response, status: number, code: number, message: RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Answer;
  expect(body.error).toMatchObject({ code, message: expect.stringMatching(message) });
}

describe('JSON-RPC batches in a federated 2025-03-26 session', () => {
  it('tools/list, two tools/call to different members and a notification: one array of three responses', async () => {
    const headers = await session('2025-03-26');
    const res = await post(headers, [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'fixture__echo', arguments: { text: 'hi' } },
      },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'x', progress: 1 } },
      {
        jsonrpc: '2.0',
        id: 'three',
        method: 'tools/call',
        params: { name: 'fetch__fetch', arguments: { url: `${page.url}/page` } },
      },
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const answers = (await res.json()) as Answer[];
    // In the batch's order, whichever member answered first.
    expect(answers.map((a) => a.id)).toEqual([1, 2, 'three']);
    const byId = new Map(answers.map((a) => [a.id, a]));
    const names = byId.get(1)!.result!.tools!.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['fetch__fetch', 'fixture__echo']));
    // Hidden by nothing: `fixture__add` is listed (the policy denies calls to it, it does not hide it).
    expect(names).toContain('fixture__add');
    expect(byId.get(2)!.result!.content![0]!.text).toBe('hi');
    expect(byId.get('three')!.result!.content![0]!.text).toContain('hello from the page');
    for (const a of answers) expect(a.jsonrpc).toBe('2.0');
  });

  it('a policy-denied element gets the policy error (audited); the others are still answered', async () => {
    const headers = await session('2025-03-26');
    const before = await denials();
    const res = await post(headers, [
      {
        jsonrpc: '2.0',
        id: 'add',
        method: 'tools/call',
        params: { name: 'fixture__add', arguments: { a: 1, b: 2 } },
      },
      {
        jsonrpc: '2.0',
        id: 'echo',
        method: 'tools/call',
        params: { name: 'fixture__echo', arguments: { text: 'ok' } },
      },
    ]);
    expect(res.status).toBe(200);
    const byId = new Map(((await res.json()) as Answer[]).map((a) => [a.id, a]));
    expect(byId.get('add')!.error).toMatchObject({ code: -32010, data: { reason: 'no adding here' } });
    expect(byId.get('echo')!.result!.content![0]!.text).toBe('ok');
    expect(await denials()).toBe(before + 1);
  });

  it('a batch of notifications only is answered 202 without a body', async () => {
    const headers = await session('2025-03-26');
    const res = await post(headers, [
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } },
    ]);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
  });

  it('an empty batch is 400 -32600', async () => {
    const headers = await session('2025-03-26');
    await refused(await post(headers, []), 400, -32600, /batch must hold 1 to 1000 messages/);
  });

  it('a batch over 1000 messages is 400 -32600, nothing of it served', async () => {
    const headers = await session('2025-03-26');
    const long = Array.from({ length: 1001 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }));
    await refused(await post(headers, long), 400, -32600, /batch must hold 1 to 1000 messages/);
  });

  it('a malformed element or a request id twice refuses the whole batch (400 -32600)', async () => {
    const headers = await session('2025-03-26');
    await refused(
      await post(headers, [{ jsonrpc: '2.0', id: 1, method: 'ping' }, { hello: 'world' }]),
      400,
      -32600,
      /not a JSON-RPC 2.0 message/,
    );
    await refused(
      await post(headers, [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      ]),
      400,
      -32600,
      /duplicate id in batch/,
    );
  });
});

describe('batches elsewhere are refused as on the direct path', () => {
  it('in a 2025-06-18 session: 400 -32600 (batches were removed in that revision)', async () => {
    const headers = await session('2025-06-18');
    const res = await post(headers, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
    await refused(res, 400, -32600, /2025-03-26 only.*2025-06-18/);
  });

  it('without a session: 400 (the session header is required); with an unknown one: 404', async () => {
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }];
    await refused(await post(BASE_HEADERS(), batch), 400, -32000, /Mcp-Session-Id header is required/);
    const unknown = { ...BASE_HEADERS(), 'mcp-session-id': 'no-such-session' };
    await refused(await post(unknown, batch), 404, -32001, /Session not found/);
  });

  it('on the 2026-07-28 wire: 400 -32600, never batched', async () => {
    const res = await post({ ...BASE_HEADERS(), 'mcp-protocol-version': '2026-07-28' }, [
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    ]);
    await refused(res, 400, -32600, /2026-07-28 requests are never batched/);
  });
});

describe('a batch has at most BATCH_CONCURRENCY elements in flight', () => {
  it('the rest start as earlier ones finish, and the answer keeps the batch order', async () => {
    // The endpoint side of serveBatch in process: each element's serveOne waits until the test
    // answers it, so what is in flight at each step is exact (no timing involved).
    const n = 2 * BATCH_CONCURRENCY + 3;
    const started: unknown[] = [];
    const waiting: Array<() => void> = [];
    let inFlight = 0;
    let most = 0;
    const session = new FederatedSession('s1', 'local:alice', '2025-03-26', Date.now());
    const host: BatchHost = {
      session: (id, user) => (id === session.id && user === session.user ? session : undefined),
      serveOne: (message) =>
        new Promise<Response>((resolve) => {
          started.push(message.id);
          most = Math.max(most, ++inFlight);
          waiting.push(() => {
            inFlight--;
            resolve(Response.json({ jsonrpc: '2.0', id: message.id, result: {} }));
          });
        }),
      answer: () => {},
      trace: () => undefined,
    };
    const batch = Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }));
    const served = serveBatch(host, {
      values: batch,
      sessionId: session.id,
      header: (name) => (name === 'mcp-protocol-version' ? '2025-03-26' : null),
      identity: { sub: 'local:alice', scopes: [] },
      info: {},
      trace: undefined,
    });
    for (let answered = 0; answered < n; answered++) {
      // Each answer lets exactly one more element start, in batch order, until none is left.
      await expect.poll(() => started.length).toBe(Math.min(n, BATCH_CONCURRENCY + answered));
      expect(started).toEqual(batch.slice(0, started.length).map((m) => m.id));
      expect(waiting).toHaveLength(Math.min(BATCH_CONCURRENCY, n - answered));
      // The newest first, so elements finish out of batch order.
      waiting.pop()!();
    }
    const res = await served;
    expect(most).toBe(BATCH_CONCURRENCY);
    expect(((await res.json()) as Answer[]).map((a) => a.id)).toEqual(batch.map((m) => m.id));
  });
});
