// OpenTelemetry on the gateway's MCP request path (issue 20): a real gateway on 127.0.0.1 with a stdio
// fixture, an `http` service in front of a real fetch-server and the built-in fetch service, exporting by
// OTLP/HTTP to the testkit's collector stand-in; spans checked as the collector received them.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createFetchServer } from '@mcp-gateway/fetch-server';
import {
  fixtureMcpServerCommand,
  listen,
  startOtlpReceiver,
  type Listening,
  type OtlpReceiver,
  type ReceivedSpan,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

// Spans are exported 20 ms after they end (the SDK's batch processor reads this variable).
process.env.OTEL_BSP_SCHEDULE_DELAY = '20';

const SERVICES = ['fetch', 'fixture', 'upstream'] as const;
type Service = (typeof SERVICES)[number];
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

let collector: OtlpReceiver;
let gw: Gateway;
let base: string;
let page: Listening;
let upstream: Listening;
/** `traceparent` of every request the http service's upstream received. */
const upstreamTraceparents: (string | null)[] = [];
const tokens: Record<string, string> = {};

/** A gateway on 127.0.0.1 with the three service types; telemetry to `endpoint` when given. */
async function startGateway(endpoint: string | undefined) {
  const { gw: g, url } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
      upstream: { type: 'http', url: `${upstream.url}/mcp` },
    },
    ...(endpoint ? { telemetry: { endpoint, serviceName: 'gw-under-test' } } : {}),
  });
  await g.users.put('alice', 'alice-password-1');
  return { gw: g, base: url };
}

beforeAll(async () => {
  collector = await startOtlpReceiver();
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen((request) => {
    upstreamTraceparents.push(request.headers.get('traceparent'));
    return fetchServer(request);
  });
  ({ gw, base } = await startGateway(collector.endpoint));
  for (const s of SERVICES) tokens[s] = (await issueToken(gw, 'alice', s)).access_token;
});

// The gateways close after the file (listeningGateway); the servers behind them here.
afterAll(async () => {
  await upstream?.close();
  await page?.close();
  await collector?.close();
});

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const textOf = (r: object) => (r as { content: Array<{ text: string }> }).content[0]!.text;

/** An MCP SDK 1.x (2025 session) client of `service` on `at`, sending `headers` with every request. */
async function sdk1(
  service: Service,
  headers: Record<string, string> = {},
  at = base,
  token = tokens[service],
) {
  const client = new ClientV1({ name: 'sdk1', version: '1' });
  const url = new URL(`${at}/${service}/mcp`);
  await client.connect(
    new TransportV1(url, { requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } } }),
  );
  return client;
}

/** An MCP SDK 2.x client pinned to 2026-07-28. */
async function sdk2(service: Service) {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const url = new URL(`${base}/${service}/mcp`);
  await client.connect(
    new TransportV2(url, { requestInit: { headers: { authorization: `Bearer ${tokens[service]}` } } }),
  );
  return client;
}

/** Waits for a span matching `match` and returns it with every span received. */
async function spanWhere(match: (s: ReceivedSpan) => boolean) {
  const spans = await collector.waitForSpans((all) => all.some(match));
  return { span: spans.find(match)!, spans };
}

describe('telemetry: one span per MCP request, child spans per hop, context passed on', () => {
  it('2025 session, stdio: the client trace continues, the bridge hop is a child, the child gets it in params._meta', async () => {
    const client = await sdk1('fixture', { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    const echoed = JSON.parse(
      textOf(await client.callTool({ name: 'meta', arguments: { secret: 'do-not-record-me' } })),
    ) as Record<string, string>;
    await client.close();
    const { span, spans } = await spanWhere(
      (s) => s.name === 'tools/call meta' && s.traceId === CLIENT_TRACE,
    );
    expect(span).toMatchObject({
      parentSpanId: CLIENT_SPAN,
      kind: SERVER,
      service: 'gw-under-test',
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'meta',
        'gen_ai.operation.name': 'execute_tool',
        'mcp.gateway.service': 'fixture',
        'enduser.id': 'local:alice',
        'mcp.gateway.protocol_era': 'legacy',
        'http.response.status_code': 200,
      },
    });
    expect(span.attributes['mcp.protocol.version']).toMatch(/^2025-/);
    expect(span.attributes['mcp.session.id']).toBeTruthy();
    expect(span.status).not.toBe(ERROR);
    expect(JSON.stringify(spans)).not.toContain('do-not-record-me');
    const bridge = await spanWhere((s) => s.name === 'mcp.bridge' && s.parentSpanId === span.spanId);
    expect(bridge.span).toMatchObject({
      traceId: CLIENT_TRACE,
      kind: CLIENT,
      attributes: { 'network.transport': 'pipe', 'mcp.method.name': 'tools/call' },
    });
    // SEP-414: the child's request carries the bridge hop's W3C context, unprefixed.
    expect(echoed.traceparent).toBe(`00-${CLIENT_TRACE}-${bridge.span.spanId}-01`);
  });

  it('2026-07-28, http service: the upstream gets the traceparent of the upstream hop, in the same trace', async () => {
    const client = await sdk2('upstream');
    const before = upstreamTraceparents.length;
    const r = await client.callTool({ name: 'fetch', arguments: { url: `${page.url}/private-path` } });
    expect(textOf(r)).toContain('hello from the page');
    await client.close();
    const { span, spans } = await spanWhere(
      (s) => s.name === 'tools/call fetch' && s.attributes['mcp.gateway.service'] === 'upstream',
    );
    expect(span).toMatchObject({
      parentSpanId: '',
      kind: SERVER,
      attributes: {
        'mcp.protocol.version': '2026-07-28',
        'mcp.gateway.protocol_era': 'modern',
        'enduser.id': 'local:alice',
        'http.response.status_code': 200,
      },
    });
    expect(span.attributes['mcp.session.id']).toBeUndefined();
    const hop = spans.find((s) => s.name === 'mcp.upstream' && s.parentSpanId === span.spanId)!;
    expect(hop).toMatchObject({
      traceId: span.traceId,
      kind: CLIENT,
      attributes: {
        'server.address': '127.0.0.1',
        'http.response.status_code': 200,
        'url.full': `${upstream.url}/mcp`,
      },
    });
    expect(upstreamTraceparents.slice(before)).toContain(`00-${span.traceId}-${hop.spanId}-01`);
    expect(JSON.stringify(spans)).not.toContain('private-path');
  });

  it('2026-07-28, the fetch service: the outgoing request of the tool is a child span; a refused fetch is a tool error', async () => {
    const client = await sdk2('fetch');
    const ok = await client.callTool({ name: 'fetch', arguments: { url: `${page.url}/fetched-path` } });
    expect(textOf(ok)).toContain('hello from the page');
    const refused = await client.callTool({
      name: 'fetch',
      arguments: { url: 'ftp://example.invalid/refused-target' },
    });
    expect(refused.isError).toBe(true);
    await client.close();
    const isCall = (s: ReceivedSpan) =>
      s.name === 'tools/call fetch' && s.attributes['mcp.gateway.service'] === 'fetch';
    const spans = await collector.waitForSpans(
      (all) =>
        all.filter((s) => s.name === 'GET' && all.some((p) => isCall(p) && p.spanId === s.parentSpanId))
          .length === 2,
    );
    const calls = spans.filter(isCall);
    const gets = spans.filter((s) => s.name === 'GET' && calls.some((c) => c.spanId === s.parentSpanId));
    const parentOf = (g: ReceivedSpan) => calls.find((c) => c.spanId === g.parentSpanId)!;
    const okGet = gets.find((g) => parentOf(g).status !== ERROR)!;
    expect(okGet).toMatchObject({ kind: CLIENT, status: 0, attributes: { 'mcp.gateway.service': 'fetch' } });
    expect(parentOf(okGet).attributes['mcp.protocol.version']).toBe('2026-07-28');
    const refusedGet = gets.find((g) => g !== okGet)!;
    expect(refusedGet).toMatchObject({ status: ERROR, attributes: { 'error.type': 'invalid_url' } });
    // A tool result with isError is a tool error (OpenTelemetry MCP conventions), not an ok call.
    expect(parentOf(refusedGet)).toMatchObject({ status: ERROR, attributes: { 'error.type': 'tool_error' } });
    // The URL is the tool's argument: not recorded without captureArguments.
    expect(JSON.stringify(spans)).not.toContain('refused-target');
    expect(JSON.stringify(spans)).not.toContain('fetched-path');
  });

  it('a JSON-RPC error answer: error.type and rpc.response.status_code are its code, the span is an error', async () => {
    const client = await sdk1('fixture');
    await expect(client.request({ method: 'bogus/method', params: {} }, z.object({}))).rejects.toThrow();
    await client.close();
    const { span } = await spanWhere((s) => s.name === 'bogus/method');
    expect(span.attributes).toMatchObject({
      'mcp.method.name': 'bogus/method',
      'error.type': '-32601',
      'rpc.response.status_code': '-32601',
    });
    expect(span.status).toBe(ERROR);
  });

  it('a refused request (no token, 401) is a span of its own: HTTP method, status, no user', async () => {
    const res = await fetch(`${base}/fixture/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        traceparent: `00-${CLIENT_TRACE}-${'1'.repeat(16)}-01`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const { span } = await spanWhere((s) => s.parentSpanId === '1'.repeat(16));
    expect(span).toMatchObject({
      name: 'POST',
      traceId: CLIENT_TRACE,
      status: ERROR,
      attributes: { 'http.response.status_code': 401, 'error.type': '401', 'mcp.gateway.service': 'fixture' },
    });
    expect(span.attributes['enduser.id']).toBeUndefined();
  });

  it('metrics: mcp.server.operation.duration by bounded method, service and outcome class', async () => {
    await gw.telemetry.flush();
    const points = collector.points.filter((p) => p.metric === 'mcp.server.operation.duration');
    const series = points.map((p) => p.attributes);
    expect(series).toContainEqual({
      'mcp.method.name': 'tools/call',
      'mcp.gateway.service': 'fixture',
      'mcp.gateway.outcome': 'ok',
    });
    expect(series).toContainEqual(expect.objectContaining({ 'mcp.gateway.outcome': 'refused' }));
    expect(series).toContainEqual(expect.objectContaining({ 'mcp.gateway.outcome': 'tool_error' }));
    // A client-chosen method name is not a label value.
    expect(series).toContainEqual(
      expect.objectContaining({ 'mcp.method.name': 'other', 'mcp.gateway.outcome': 'rpc_error' }),
    );
    expect(series.some((s) => s['mcp.method.name'] === 'bogus/method')).toBe(false);
  });
});

describe('telemetry: what is not done', () => {
  it('an unsampled client trace (flags 00): no span exported, the child request is not rewritten', async () => {
    const unsampled = `00-${'a'.repeat(32)}-${CLIENT_SPAN}-00`;
    const client = await sdk1('fixture', { traceparent: unsampled });
    const echoed = JSON.parse(textOf(await client.callTool({ name: 'meta', arguments: {} }))) as object;
    await client.close();
    expect(echoed).not.toHaveProperty('traceparent');
    await gw.telemetry.flush();
    expect(collector.spans.some((s) => s.traceId === 'a'.repeat(32))).toBe(false);
  });

  it('telemetry off (no endpoint): nothing is traced and the child request is not rewritten', async () => {
    const off = await startGateway(undefined);
    try {
      expect(off.gw.telemetry.enabled).toBe(false);
      const token = (await issueToken(off.gw, 'alice', 'fixture')).access_token;
      const spansBefore = collector.spans.length;
      const client = await sdk1(
        'fixture',
        { traceparent: `00-${'b'.repeat(32)}-${CLIENT_SPAN}-01` },
        off.base,
        token,
      );
      const echoed = JSON.parse(textOf(await client.callTool({ name: 'meta', arguments: {} }))) as object;
      await client.close();
      expect(echoed).not.toHaveProperty('traceparent');
      await gw.telemetry.flush();
      expect(collector.spans.slice(spansBefore).some((s) => s.traceId === 'b'.repeat(32))).toBe(false);
    } finally {
      await off.gw.close(0);
    }
  });
});
