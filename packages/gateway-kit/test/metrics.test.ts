import { describe, expect, it } from 'vitest';
import { ToolObservation } from '../src/gateway/tool-observation.js';
import { GatewayMetrics } from '../src/ops/metrics.js';

const scrape = async (m: GatewayMetrics) => (await m.render()).text();

describe('GatewayMetrics (counted in plain maps, handed to prom-client at scrape)', () => {
  it('requests, tool calls and durations appear in the exposition with their labels and counts', async () => {
    const m = new GatewayMetrics();
    m.countRequest('service', 200);
    m.countRequest('service', 200);
    m.countRequest('auth', 401);
    m.learnTools('demo', ['whoami']);
    m.countToolCall('demo', 'whoami');
    m.observeDuration('service', 0.0005);
    m.observeDuration('service', 0.2);
    const text = await scrape(m);
    expect(text).toContain('mcp_gateway_http_requests_total{route="service",status="200"} 2');
    expect(text).toContain('mcp_gateway_http_requests_total{route="auth",status="401"} 1');
    expect(text).toContain('mcp_gateway_tool_calls_total{service="demo",tool="whoami"} 1');
    expect(text).toContain('mcp_gateway_http_request_duration_seconds_bucket{le="0.001",route="service"} 1');
    expect(text).toContain('mcp_gateway_http_request_duration_seconds_count{route="service"} 2');
    // A second scrape neither loses nor double-counts.
    m.countRequest('service', 200);
    const again = await scrape(m);
    expect(again).toContain('mcp_gateway_http_requests_total{route="service",status="200"} 3');
    expect(again).toContain('mcp_gateway_http_request_duration_seconds_count{route="service"} 2');
  });

  it("process metrics keep Node's default names (no prefix), so stock dashboards work", async () => {
    const m = new GatewayMetrics({ processMetrics: true });
    const text = await scrape(m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toMatch(/^mcp_gateway_process_|^mcp_gateway_nodejs_/m);
  });

  it('durations are handed over without a scrape once 4096 wait, so memory stays bounded', async () => {
    const m = new GatewayMetrics();
    for (let i = 0; i < 4095; i++) m.observeDuration('service', 0.001);
    expect(m.bufferedDurations).toBe(4095);
    m.observeDuration('service', 0.001);
    expect(m.bufferedDurations).toBe(0);
    expect(await scrape(m)).toContain(
      'mcp_gateway_http_request_duration_seconds_count{route="service"} 4096',
    );
  });
});

describe('ToolObservation (replies read on their way to the client)', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const tools = (m: GatewayMetrics) =>
    m.registry
      .getSingleMetricAsString('mcp_gateway_tool_calls_total')
      .then((t) => t.split('\n').filter((l) => !l.startsWith('#')));

  it('a JSON reply in several chunks: tools/list teaches the names, a result counts, an error does not', async () => {
    const m = new GatewayMetrics();
    const learn = ToolObservation.of('s', [{ id: 1, method: 'tools/list' }], m)!;
    const listed = learn.tapResponse(
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"na'));
            c.enqueue(enc('me":"a"},{"name":"b"}]}}'));
            c.close();
          },
        }),
        { headers: { 'content-type': 'application/json' } },
      ),
    );
    expect(await listed.json()).toMatchObject({ result: { tools: [{ name: 'a' }, { name: 'b' }] } });
    const calls = [
      { id: 2, method: 'tools/call', params: { name: 'a' } },
      { id: 'x', method: 'tools/call', params: { name: 'b' } },
      { id: 3, method: 'tools/call', params: { name: 'zzz' } },
    ];
    const answered = ToolObservation.of('s', calls, m)!.tapResponse(
      Response.json([
        { jsonrpc: '2.0', id: 2, result: {} },
        { jsonrpc: '2.0', id: 'x', error: { code: -32602, message: 'bad' } },
        { jsonrpc: '2.0', id: 3, result: { isError: true } },
      ]),
    );
    await answered.text();
    expect(await tools(m)).toEqual([
      'mcp_gateway_tool_calls_total{service="s",tool="a"} 1',
      'mcp_gateway_tool_calls_total{service="s",tool="other"} 1',
    ]);
  });

  it('an event stream with CRLF lines split mid-event; requests without an id or of other methods are not watched', async () => {
    const m = new GatewayMetrics();
    m.learnTools('s', ['echo']);
    expect(ToolObservation.of('s', [{ method: 'tools/call', params: { name: 'echo' } }], m)).toBeUndefined();
    expect(ToolObservation.of('s', [{ id: 1, method: 'initialize' }], m)).toBeUndefined();
    const o = ToolObservation.of('s', [{ id: 7, method: 'tools/call', params: { name: 'echo' } }], m)!;
    const res = o.tapResponse(
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc('id: p1\r\ndata: \r\n\r\nevent: message\r\ndata: {"jsonrpc":"2.0",'));
            c.enqueue(enc('"id":7,"result":{"content":[]}}\r'));
            c.enqueue(enc('\n\r\n'));
            c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      ),
    );
    await res.text();
    expect(await tools(m)).toEqual(['mcp_gateway_tool_calls_total{service="s",tool="echo"} 1']);
  });

  it('a tool name whose UTF-8 bytes are split between chunks is learnt and counted whole', async () => {
    const m = new GatewayMetrics();
    const bytes = enc('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"café"}]}}');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    await ToolObservation.of('s', [{ id: 1, method: 'tools/list' }], m)!
      .tapResponse(
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(bytes.slice(0, cut));
              c.enqueue(bytes.slice(cut));
              c.close();
            },
          }),
          { headers: { 'content-type': 'application/json' } },
        ),
      )
      .text();
    const call = ToolObservation.of('s', [{ id: 2, method: 'tools/call', params: { name: 'café' } }], m)!;
    await call.tapResponse(Response.json({ jsonrpc: '2.0', id: 2, result: {} })).text();
    expect(await tools(m)).toEqual(['mcp_gateway_tool_calls_total{service="s",tool="café"} 1']);
  });

  it('onResponse (parsed replies, the stdio bridge hook): the same rules without reading bytes; later replies change nothing', async () => {
    const m = new GatewayMetrics();
    const list = ToolObservation.of('s', [{ id: 1, method: 'tools/list' }], m)!;
    list.onResponse({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }] } });
    const o = ToolObservation.of(
      's',
      [
        { id: 2, method: 'tools/call', params: { name: 'echo' } },
        { id: 3, method: 'tools/call', params: { name: 'echo' } },
        { id: 4, method: 'tools/call', params: { name: 'nope' } },
      ],
      m,
    )!;
    o.onResponse({ jsonrpc: '2.0', id: 2, result: { content: [] } });
    o.onResponse({ jsonrpc: '2.0', id: 3, error: { code: -32602, message: 'bad' } });
    o.onResponse({ jsonrpc: '2.0', id: 99, result: {} });
    o.onResponse({ jsonrpc: '2.0', id: 4, result: { isError: true } });
    // Every watched request is answered: a repeated id is not counted again.
    o.onResponse({ jsonrpc: '2.0', id: 2, result: { content: [] } });
    expect(await tools(m)).toEqual([
      'mcp_gateway_tool_calls_total{service="s",tool="echo"} 1',
      'mcp_gateway_tool_calls_total{service="s",tool="other"} 1',
    ]);
  });

  it('learnTools keeps at most maxToolsPerService names per service', async () => {
    const m = new GatewayMetrics({ maxToolsPerService: 2 });
    m.learnTools('s', ['a', 'b', 'c', 42, 'x'.repeat(129)]);
    for (const t of ['a', 'b', 'c', 'x'.repeat(129)]) m.countToolCall('s', t);
    expect(await tools(m)).toEqual([
      'mcp_gateway_tool_calls_total{service="s",tool="a"} 1',
      'mcp_gateway_tool_calls_total{service="s",tool="b"} 1',
      'mcp_gateway_tool_calls_total{service="s",tool="other"} 2',
    ]);
  });
});
