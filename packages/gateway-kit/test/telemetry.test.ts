// OpenTelemetry of MCP requests (issue 20): spans built with the official JS SDK, exported by
// OTLP/HTTP to the testkit's collector stand-in, checked as the collector received them.
import { startOtlpReceiver, type OtlpReceiver } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tapReplies } from '../src/gateway/reply-tap.js';
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

async function telemetry(captureArguments = false): Promise<Telemetry> {
  const t = await Telemetry.create(
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

const alice = { sub: 'local:alice', scopes: [] };

/** One traced POST of `message` to service `web`, answered by `reply` (a JSON body). */
function traced(t: Telemetry, message: Record<string, unknown>, reply: object, headers: HeadersInit = {}) {
  const request = new Request('http://gw.test/web/mcp', { method: 'POST', headers });
  const trace = McpRequestTrace.begin(t, 'web', request);
  trace.admitted(alice, [message], message);
  return trace.answered(tapReplies(Response.json(reply), trace.watch(undefined)));
}

describe('telemetry: the span of one MCP request', () => {
  it('captureArguments records the tool-call arguments, cut to 4096 characters', async () => {
    const t = await telemetry(true);
    const message = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'big', arguments: { q: 'x'.repeat(10_000) } },
    };
    await traced(t, message, { jsonrpc: '2.0', id: 1, result: { content: [] } }).text();
    await t.flush();
    const spans = await collector.waitForSpans((s) => s.some((x) => x.name === 'tools/call big'));
    const span = spans.find((x) => x.name === 'tools/call big')!;
    expect(span.parentSpanId).toBe('');
    expect(String(span.attributes['gen_ai.tool.call.arguments']).length).toBe(4096);
    expect(span.status).toBe(0);
  });

  it('params._meta.traceparent (SEP-414) is the parent, before the traceparent header', async () => {
    const t = await telemetry();
    const meta = { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' };
    const header = { traceparent: '00-33333333333333333333333333333333-4444444444444444-01' };
    const message = { jsonrpc: '2.0', id: 2, method: 'prompts/get', params: { name: 'p', _meta: meta } };
    await traced(
      t,
      message,
      { jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'no such prompt' } },
      header,
    ).text();
    await t.flush();
    const spans = await collector.waitForSpans((s) => s.some((x) => x.name === 'prompts/get p'));
    expect(spans.find((x) => x.name === 'prompts/get p')).toMatchObject({
      traceId: '1'.repeat(32),
      parentSpanId: '2'.repeat(16),
      status: 2,
      attributes: { 'gen_ai.prompt.name': 'p', 'error.type': '-32602', 'rpc.response.status_code': '-32602' },
    });
  });

  it('metrics: mcp.server.operation.duration is exported; unknown method names do not make new series', async () => {
    const t = await telemetry();
    for (const method of ['tools/list', 'x-made-up/1', 'x-made-up/2'])
      await traced(t, { jsonrpc: '2.0', id: 3, method }, { jsonrpc: '2.0', id: 3, result: {} }).text();
    await t.flush();
    expect(collector.metrics.has('mcp.server.operation.duration')).toBe(true);
    const methods = collector.points
      .filter((p) => p.metric === 'mcp.server.operation.duration')
      .map((p) => p.attributes['mcp.method.name']);
    expect(methods).toContain('tools/list');
    expect(methods).toContain('other');
    expect(methods.filter((m) => String(m).startsWith('x-made-up'))).toEqual([]);
  });

  it('without an endpoint the telemetry is disabled and exports nothing', async () => {
    const t = Telemetry.disabled();
    expect(t.enabled).toBe(false);
    await t.flush();
    await t.shutdown();
  });
});
