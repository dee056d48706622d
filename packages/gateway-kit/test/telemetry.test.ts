// OpenTelemetry of MCP requests (issue 20): spans built with the official JS SDK, exported by
// OTLP/HTTP to the testkit's collector stand-in, checked as the collector received them.
import { startOtlpReceiver, type OtlpReceiver } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpRequestTrace } from '../src/telemetry/mcp-trace.js';
import { Telemetry } from '../src/telemetry/telemetry.js';

let collector: OtlpReceiver;
const telemetries: Telemetry[] = [];

beforeAll(async () => {
  collector = await startOtlpReceiver();
});
afterAll(async () => {
  for (const t of telemetries) await t.shutdown();
  await collector.close();
});

function telemetry(captureArguments = false): Telemetry {
  const t = Telemetry.create(
    {
      otlpEndpoint: collector.endpoint,
      otlpHeaders: {},
      serviceName: 'gw-under-test',
      captureArguments,
      metricsIntervalMs: 60_000,
    },
    '1.2.3',
  );
  telemetries.push(t);
  return t;
}

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe('telemetry: one span per MCP request, child spans per hop', () => {
  it('a tools/call span continues the client trace, names method and tool, carries service and user, and no arguments', async () => {
    const t = telemetry();
    const headers = new Headers({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    const request = McpRequestTrace.start(
      t,
      {
        method: 'tools/call',
        tool: 'fetch',
        service: 'web',
        user: 'github:583231',
        clientId: 'client-1',
        protocolVersion: '2025-11-25',
        requestId: 7,
        arguments: { url: 'https://secret.example/' },
      },
      headers,
    );
    const hop = request.hop('mcp.upstream', { 'server.address': 'upstream.example' });
    const carrier = request.carrier(hop);
    hop.end();
    request.end(200);
    await t.flush();
    const spans = await collector.waitForSpans((s) => s.some((x) => x.name === 'tools/call fetch'));
    const server = spans.find((x) => x.name === 'tools/call fetch')!;
    expect(server).toMatchObject({
      traceId: CLIENT_TRACE,
      parentSpanId: CLIENT_SPAN,
      kind: 2,
      service: 'gw-under-test',
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'fetch',
        'mcp.gateway.service': 'web',
        'enduser.id': 'github:583231',
        'mcp.protocol.version': '2025-11-25',
        'jsonrpc.request.id': '7',
        'http.response.status_code': 200,
      },
    });
    expect(JSON.stringify(server.attributes)).not.toContain('secret.example');
    const child = spans.find((x) => x.name === 'mcp.upstream' && x.parentSpanId === server.spanId)!;
    expect(child).toMatchObject({ traceId: CLIENT_TRACE, kind: 3 });
    // The hop's request carries the hop span's context (W3C traceparent).
    expect(carrier.traceparent).toBe(`00-${CLIENT_TRACE}-${child.spanId}-01`);
  });

  it('captureArguments records the arguments (bounded); a failure marks the span as an error', async () => {
    const t = telemetry(true);
    const request = McpRequestTrace.start(
      t,
      {
        method: 'tools/call',
        tool: 'big',
        service: 'web',
        user: 'local:alice',
        arguments: { q: 'x'.repeat(10_000) },
      },
      new Headers(),
    );
    request.end(502, 'backend unavailable');
    await t.flush();
    const spans = await collector.waitForSpans((s) => s.some((x) => x.name === 'tools/call big'));
    const span = spans.find((x) => x.name === 'tools/call big')!;
    expect(span.parentSpanId).toBe('');
    expect(String(span.attributes['gen_ai.tool.call.arguments']).length).toBe(4096);
    expect(span.status).toBe(2);
    expect(span.attributes['error.type']).toBe('backend unavailable');
  });

  it('metrics: mcp.server.operation.duration is exported; unknown method names do not make new series', async () => {
    const t = telemetry();
    for (const method of ['tools/list', 'x-made-up/1', 'x-made-up/2'])
      McpRequestTrace.start(t, { method, service: 'web', user: 'local:alice' }, new Headers()).end(200);
    await t.flush();
    expect(collector.metrics.has('mcp.server.operation.duration')).toBe(true);
    const methods = collector.points
      .filter((p) => p.metric === 'mcp.server.operation.duration')
      .map((p) => p.attributes['mcp.method.name']);
    expect(methods).toContain('tools/list');
    expect(methods).toContain('other');
    expect(methods.filter((m) => String(m).startsWith('x-made-up'))).toEqual([]);
  });

  it('without an endpoint nothing is recorded or exported, and the API is the same', async () => {
    const before = collector.spans.length;
    const t = Telemetry.disabled();
    const request = McpRequestTrace.start(
      t,
      { method: 'tools/list', service: 'web', user: 'u' },
      new Headers(),
    );
    expect(request.carrier()).toEqual({});
    request.end(200);
    await t.flush();
    expect(t.enabled).toBe(false);
    expect(collector.spans.length).toBe(before);
  });
});
