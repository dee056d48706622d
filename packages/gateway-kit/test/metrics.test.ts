import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../src/ops/metrics.js';

const scrape = async (m: GatewayMetrics) => (await m.render()).text();

describe('GatewayMetrics (counted in plain maps, handed to prom-client at scrape)', () => {
  it('requests, tool calls and durations appear in the exposition with their labels and counts', async () => {
    const m = new GatewayMetrics();
    m.countRequest('service', 200);
    m.countRequest('service', 200);
    m.countRequest('auth', 401);
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
