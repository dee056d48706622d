// OpenTelemetry on federated endpoint requests (issue 20): a real gateway on 127.0.0.1 with a
// federated endpoint over a stdio fixture and the built-in fetch service, exporting by OTLP/HTTP
// to the testkit's collector stand-in. One SERVER span per federated request naming the endpoint
// (and, for a call, the member service and its own tool name), a child span per member request,
// the backend's hops under it, and the trace context passed on to the member.
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  fixtureMcpServerCommand,
  rawSession,
  request2026,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

// Spans are exported 20 ms after they end (the SDK's batch processor reads this variable).
process.env.OTEL_BSP_SCHEDULE_DELAY = '20';

const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;
const ERROR = 2;
const CLIENT_TRACE = '5bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '10f067aa0ba902b7';
const BATCH_PARENT = '3'.repeat(16);

let collector: OtlpReceiver;
let gw: Gateway;
let base: string;
let token: string;

beforeAll(async () => {
  collector = await startOtlpReceiver();
  ({ gw, url: base } = await listeningGateway({
    services: {
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
    },
    federated: [{ path: '/mcp', services: ['fixture', 'fetch'], prefix: 'always' }],
    telemetry: { endpoint: collector.endpoint, serviceName: 'gw-federated' },
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/mcp')).access_token;
});

afterAll(async () => {
  await collector?.close();
});

/** A 2026-07-28 POST to the endpoint (`meta` over the envelope). */
function post2026(
  id: number,
  method: string,
  params: Record<string, unknown>,
  meta: Record<string, unknown> = {},
  signal?: AbortSignal,
) {
  const { headers, body } = request2026(method, params, { id, meta });
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
    body,
    ...(signal ? { signal } : {}),
  });
}

async function spanWhere(match: (s: ReceivedSpan) => boolean) {
  const spans = await collector.waitForSpans((all) => all.some(match));
  return { span: spans.find(match)!, spans };
}

describe('telemetry on a federated endpoint', () => {
  it('2026-07-28 tools/call: endpoint span with the member service and tool, a member span, the bridge hop under it, context to the child', async () => {
    const res = await post2026(
      1,
      'tools/call',
      { name: 'fixture__meta', arguments: { secret: 'do-not-record-me' } },
      { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
    );
    const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
    const echoed = JSON.parse(body.result.content[0]!.text) as Record<string, string>;
    const { span, spans } = await spanWhere(
      (s) => s.name === 'tools/call fixture__meta' && s.traceId === CLIENT_TRACE,
    );
    expect(span).toMatchObject({
      parentSpanId: CLIENT_SPAN,
      kind: SERVER,
      service: 'gw-federated',
      attributes: {
        'mcp.gateway.endpoint': '/mcp',
        'mcp.gateway.service': 'fixture',
        'mcp.gateway.member.tool': 'meta',
        'gen_ai.tool.name': 'fixture__meta',
        'mcp.method.name': 'tools/call',
        'mcp.gateway.protocol_era': 'modern',
        'enduser.id': 'local:alice',
        'http.response.status_code': 200,
      },
    });
    expect(span.status).not.toBe(ERROR);
    // The call's member span (a first 2026-07-28 call also lists the member's tools: its `Mcp-Param-*` check).
    const member = await spanWhere(
      (s) =>
        s.parentSpanId === span.spanId && s.kind === INTERNAL && s.name === 'mcp.federated.member tools/call',
    );
    expect(member.span).toMatchObject({
      name: 'mcp.federated.member tools/call',
      traceId: CLIENT_TRACE,
      attributes: { 'mcp.gateway.service': 'fixture', 'mcp.method.name': 'tools/call' },
    });
    const bridge = await spanWhere((s) => s.name === 'mcp.bridge' && s.parentSpanId === member.span.spanId);
    expect(bridge.span).toMatchObject({ kind: CLIENT, traceId: CLIENT_TRACE });
    // The child's request carries the bridge hop's context (SEP-414), in the client's trace.
    expect(echoed.traceparent).toBe(`00-${CLIENT_TRACE}-${bridge.span.spanId}-01`);
    expect(JSON.stringify(spans)).not.toContain('do-not-record-me');
  });

  it('2025 session (SDK 1.x): tools/list is one span with a member span per member', async () => {
    const client = new ClientV1({ name: 'sdk1', version: '1' });
    await client.connect(
      new TransportV1(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('fetch__fetch');
    await client.close();
    const isList = (s: ReceivedSpan) =>
      s.name === 'tools/list' &&
      s.attributes['mcp.gateway.endpoint'] === '/mcp' &&
      s.attributes['mcp.gateway.protocol_era'] === 'legacy';
    const spans = await collector.waitForSpans((all) => {
      const list = all.find(isList);
      return !!list && all.filter((s) => s.parentSpanId === list.spanId).length === 2;
    });
    const list = spans.find(isList)!;
    expect(list).toMatchObject({ kind: SERVER, attributes: { 'enduser.id': 'local:alice' } });
    expect(list.attributes['mcp.session.id']).toBeTruthy();
    const members = spans.filter((s) => s.parentSpanId === list.spanId);
    expect(members.map((s) => s.attributes['mcp.gateway.service']).sort()).toEqual(['fetch', 'fixture']);
    expect(members.every((s) => s.name === 'mcp.federated.member tools/list')).toBe(true);
  });

  it("a member's tool error: the member span and the request span are errors of type tool_error", async () => {
    const res = await post2026(2, 'tools/call', { name: 'fixture__no-such-tool', arguments: {} });
    expect(((await res.json()) as { result: { isError?: boolean } }).result.isError).toBe(true);
    const { span } = await spanWhere((s) => s.name === 'tools/call fixture__no-such-tool');
    expect(span).toMatchObject({ status: ERROR, attributes: { 'error.type': 'tool_error' } });
    // The call's member span (a first 2026-07-28 call also lists the member's tools: its `Mcp-Param-*` check).
    const member = await spanWhere(
      (s) =>
        s.parentSpanId === span.spanId && s.kind === INTERNAL && s.name === 'mcp.federated.member tools/call',
    );
    expect(member.span).toMatchObject({ status: ERROR, attributes: { 'error.type': 'tool_error' } });
  });

  it('subscriptions/listen: the span ends when the client goes away mid-stream', async () => {
    const gone = new AbortController();
    const res = await post2026(
      3,
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      {},
      gone.signal,
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('acknowledged');
    gone.abort();
    await reader.cancel().catch(() => {});
    const { span } = await spanWhere(
      (s) => s.name === 'subscriptions/listen' && s.attributes['mcp.gateway.endpoint'] === '/mcp',
    );
    expect(span).toMatchObject({ kind: SERVER, attributes: { 'jsonrpc.request.id': '3' } });
  });

  it('a refused request (no token) is a span of its own naming the endpoint', async () => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        traceparent: `00-${CLIENT_TRACE}-${'2'.repeat(16)}-01`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const { span } = await spanWhere((s) => s.parentSpanId === '2'.repeat(16));
    expect(span).toMatchObject({
      name: 'POST',
      status: ERROR,
      attributes: { 'http.response.status_code': 401, 'mcp.gateway.endpoint': '/mcp' },
    });
    expect(span.attributes['enduser.id']).toBeUndefined();
  });

  it('a JSON-RPC batch (2025-03-26 session): one span per element, each with its member spans, none for the POST', async () => {
    const headers = await rawSession(`${base}/mcp`, token, '2025-03-26');
    const session = headers['mcp-session-id'];
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        ...headers,
        traceparent: `00-${CLIENT_TRACE}-${BATCH_PARENT}-01`,
      },
      body: JSON.stringify([
        {
          jsonrpc: '2.0',
          id: 'a',
          method: 'tools/call',
          params: { name: 'fixture__echo', arguments: { text: 'x' } },
        },
        { jsonrpc: '2.0', id: 'b', method: 'tools/list' },
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      ]),
    });
    expect(((await res.json()) as unknown[]).length).toBe(2);
    // Every span of the POST has the client's span as its parent: one per element, none of its own.
    const inBatch = (s: ReceivedSpan) => s.parentSpanId === BATCH_PARENT;
    const spans = await collector.waitForSpans((all) => all.filter(inBatch).length >= 3);
    const mine = spans.filter(inBatch);
    expect(mine.map((s) => s.name).sort()).toEqual([
      'notifications/roots/list_changed',
      'tools/call fixture__echo',
      'tools/list',
    ]);
    const call = mine.find((s) => s.name === 'tools/call fixture__echo')!;
    expect(call.attributes).toMatchObject({ 'jsonrpc.request.id': 'a', 'mcp.gateway.service': 'fixture' });
    expect(call.attributes['mcp.gateway.batch_size']).toBeUndefined();
    const list = mine.find((s) => s.name === 'tools/list')!;
    const children = await collector.waitForSpans(
      (all) => all.filter((s) => s.parentSpanId === list.spanId).length === 2,
    );
    expect(children.filter((s) => s.parentSpanId === call.spanId).map((s) => s.name)).toEqual([
      'mcp.federated.member tools/call',
    ]);
    expect(mine.every((s) => s.kind === SERVER && s.attributes['mcp.session.id'] === session)).toBe(true);
    expect(children.filter(inBatch)).toHaveLength(3);
  });

  it('a refused batch (empty) is one refused span of the POST', async () => {
    const parent = '4'.repeat(16);
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        traceparent: `00-${CLIENT_TRACE}-${parent}-01`,
      },
      body: '[]',
    });
    expect(res.status).toBe(400);
    const { span } = await spanWhere((s) => s.parentSpanId === parent);
    expect(span).toMatchObject({ name: 'POST', attributes: { 'http.response.status_code': 400 } });
  });
});
