// Tool-call metrics: labels come from the tool list the backend published,
// never from what a client writes in `tools/call`; `/metrics` can be kept
// behind a token and on a listener of its own. Real gateways on 127.0.0.1,
// the bundled stdio demo server behind them.
import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway } from './helpers/listening.js';

const ISSUER = 'http://127.0.0.1:8080';

/** A listening gateway with the stdio demo service; resolves with it, its URL and a token for `demo`. */
async function start(input: GatewayConfigInput = {}, env: NodeJS.ProcessEnv = {}) {
  const { gw, url } = await listeningGateway(input, env);
  await gw.users.put('alice', 'alice-password-1');
  const { access_token } = await issueToken(gw, 'alice', 'demo');
  return { gw, url, token: access_token };
}

const headers = (token: string, sid?: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
  ...(sid ? { 'mcp-session-id': sid } : {}),
});

/** Opens an MCP session on `url`/demo/mcp; returns a function posting JSON-RPC bodies to it. */
async function session(url: string, token: string) {
  const init = await fetch(`${url}/demo/mcp`, {
    method: 'POST',
    headers: headers(token),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  expect(init.status).toBe(200);
  await init.text();
  const sid = init.headers.get('mcp-session-id')!;
  const send = async (body: unknown) => {
    const res = await fetch(`${url}/demo/mcp`, {
      method: 'POST',
      headers: headers(token, sid),
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  expect((await send({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
  return send;
}

const call = (id: number, name: string, args: unknown = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
const list = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' });

const scrape = async (url: string, init?: RequestInit) => (await fetch(`${url}/metrics`, init)).text();
const toolSeries = (text: string) =>
  text.split('\n').filter((l) => l.startsWith('mcp_gateway_tool_calls_total{'));

describe('metrics: tool-call labels come from the tools the backend published', () => {
  it('1000 invented tool names add no series: /metrics stays bounded, the calls count as tool="other"', async () => {
    const { url, token } = await start();
    const send = await session(url, token);
    expect((await send(list(1))).status).toBe(200);
    expect((await send(call(2, 'echo', { text: 'hi' }))).status).toBe(200);
    const before = await scrape(url);
    // Batches of 250: a session has at most 256 requests in flight (the bridge's maxInFlightPerSession).
    for (let batch = 0; batch < 4; batch++) {
      const bogus = Array.from({ length: 250 }, (_, i) =>
        call(1000 + batch * 250 + i, `bogus-${batch}-${i}`),
      );
      expect((await send(bogus)).status).toBe(200);
    }
    const after = await scrape(url);
    expect(after).not.toContain('bogus-');
    // A few new lines (the "other" series, counters of the requests above), not one per name.
    expect(after.length - before.length).toBeLessThan(2048);
    expect(toolSeries(after)).toEqual([
      'mcp_gateway_tool_calls_total{service="demo",tool="echo"} 1',
      'mcp_gateway_tool_calls_total{service="demo",tool="other"} 1000',
    ]);
  });

  it('a published tool is counted under its name once answered; a JSON-RPC error answer is not a call', async () => {
    const { url, token } = await start();
    const send = await session(url, token);
    await send(list(1));
    await send(call(2, 'add', { a: 1, b: 2 }));
    // Arguments that are not an object fail the request schema: a JSON-RPC error, not a tool result.
    const refused = await send(call(3, 'add', 'not-an-object'));
    expect(refused.text).toContain('"error"');
    expect(toolSeries(await scrape(url))).toEqual([
      'mcp_gateway_tool_calls_total{service="demo",tool="add"} 1',
    ]);
  });

  it('the fetch path (no node fast path) counts the same way', async () => {
    const { gw, token } = await start();
    const post = async (body: unknown, sid?: string) => {
      const res = await gw.fetch(
        new Request(`${ISSUER}/demo/mcp`, {
          method: 'POST',
          headers: headers(token, sid),
          body: JSON.stringify(body),
        }),
      );
      await res.text();
      return res;
    };
    const init = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const sid = init.headers.get('mcp-session-id')!;
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
    await post(list(1), sid);
    await post(call(2, 'time'), sid);
    await post(call(3, 'nope'), sid);
    const text = await (await gw.fetch(new Request(`${ISSUER}/metrics`))).text();
    expect(toolSeries(text)).toEqual([
      'mcp_gateway_tool_calls_total{service="demo",tool="time"} 1',
      'mcp_gateway_tool_calls_total{service="demo",tool="other"} 1',
    ]);
  });

  it('metrics.maxToolsPerService caps the tool series of a service; tools beyond it count as other', async () => {
    const { url, token } = await start({ metrics: { maxToolsPerService: 2 } });
    const send = await session(url, token);
    const tools = JSON.parse((await send(list(1))).text.match(/^data: (.*)$/m)?.[1] ?? '{}') as {
      result: { tools: { name: string }[] };
    };
    const names = tools.result.tools.map((t) => t.name);
    expect(names.length).toBeGreaterThan(2);
    for (const [i, name] of ['echo', 'add', 'whoami', 'time'].entries()) {
      await send(call(10 + i, name, name === 'echo' ? { text: 'x' } : name === 'add' ? { a: 1, b: 1 } : {}));
    }
    const series = toolSeries(await scrape(url));
    expect(series).toHaveLength(3);
    expect(series).toContain('mcp_gateway_tool_calls_total{service="demo",tool="other"} 2');
    const firstTwo = names.slice(0, 2);
    for (const name of firstTwo)
      expect(series).toContain(`mcp_gateway_tool_calls_total{service="demo",tool="${name}"} 1`);
  });
});

describe('metrics: access to /metrics', () => {
  it('metrics.token (from MCP_GATEWAY__METRICS__TOKEN): 401 without or with a wrong token, 200 with it', async () => {
    const secret = 'metrics-token-0123456789abcdef';
    const { url } = await start({}, { MCP_GATEWAY__METRICS__TOKEN: secret });
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await none.json()).toEqual({
      error: 'invalid_token',
      error_description: 'a valid metrics token is required',
    });
    for (const wrong of [`${secret}x`, secret.slice(0, -1), 'short']) {
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${wrong}` } });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('mcp_gateway_http_requests_total');
  });

  it('metrics.listen: /metrics is served on its own listener only (404 on the main one)', async () => {
    const { gw, url } = await start({ metrics: { listen: { host: '127.0.0.1', port: 0 } } });
    expect(gw.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.metricsUrl).not.toBe(url);
    const separate = await fetch(`${gw.metricsUrl}/metrics`);
    expect(separate.status).toBe(200);
    expect(await separate.text()).toContain('mcp_gateway_http_requests_total');
    const main = await fetch(`${url}/metrics`);
    expect(main.status).toBe(404);
    await main.body?.cancel();
    const other = await fetch(`${gw.metricsUrl}/healthz`);
    expect(other.status).toBe(404);
    await other.body?.cancel();
  });

  it('metrics.listen with metrics.token: the separate listener asks for the token too', async () => {
    const secret = 'metrics-token-abcdef0123456789';
    const { gw } = await start({ metrics: { listen: { host: '127.0.0.1', port: 0 }, token: secret } });
    expect((await fetch(`${gw.metricsUrl}/metrics`)).status).toBe(401);
    const ok = await fetch(`${gw.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });
});
