// The gateway's MCP route behind the node edge, as `mcp-gateway` serves it: MCP requests to stdio
// services through admission to the bridge and back. These tests drive a real node:http server.
import http from 'node:http';
import { acceptLazyRequests } from '@mcp-gateway/internal/lazy-request';
import { abandonMidBody, parseWwwAuthenticate } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createNodeServer, type NodeServer } from '../src/http/node.js';
import { createLogger } from '../src/ops/logger.js';
import { serviceChallenges } from './helpers.js';

const ISSUER = 'http://127.0.0.1:8080';
let gw: Gateway;
let server: NodeServer;
let base: string;
/** Requests that reached the gateway's handler. */
let handled: string[] = [];
let alice: string;
let bob: string;

beforeAll(async () => {
  const { config } = resolveConfig(
    {
      issuer: ISSUER,
      store: { type: 'memory' },
      cors: { origins: ['https://inspector.example'] },
      services: {
        demo: { type: 'stdio', command: process.execPath, args: [demoPath()], identityEnv: true },
        only: { type: 'stdio', command: process.execPath, args: [demoPath()], users: ['local:alice'] },
      },
    },
    { env: {} },
  );
  gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  await gw.users.put('alice', 'alice-password-1');
  await gw.users.put('bob', 'bob-password-1');
  alice = (await issueToken(gw, 'alice', 'demo')).access_token;
  bob = (await issueToken(gw, 'bob', 'only')).access_token;
  const counted = acceptLazyRequests((request: Request, info: Parameters<Gateway['fetch']>[1]) => {
    handled.push(`${request.method} ${new URL(request.url).pathname}`);
    return gw.fetch(request, info);
  });
  server = createNodeServer(counted);
  base = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
});

function demoPath(): string {
  const { config } = resolveConfig({}, { env: {} });
  return (config.services.demo as { args: string[] }).args[0]!;
}

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The last JSON-RPC message of a JSON or SSE answer. */
async function rpc(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.headers.get('content-type')?.includes('text/event-stream')) return JSON.parse(text) as never;
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim())
    .filter(Boolean)
    .pop()!;
  return JSON.parse(data) as never;
}

async function open(path: string, token: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await post(path, initialize, { authorization: `Bearer ${token}`, ...extra });
  expect(res.status).toBe(200);
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  const ack = await post(
    path,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { authorization: `Bearer ${token}`, 'mcp-session-id': sid },
  );
  expect(ack.status).toBe(202);
  return sid;
}

const whoami = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };

describe('gateway MCP route behind the node edge (stdio services)', () => {
  it('serves initialize, notifications and tools/call with the caller identity', async () => {
    const sid = await open('/demo/mcp', alice);
    const res = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
      'x-request-id': 'req-fast-1',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-fast-1');
    const msg = (await rpc(res)) as { result: { content: { text: string }[] } };
    expect(JSON.parse(msg.result.content[0]!.text)).toMatchObject({ id: 'local:alice', name: 'alice' });
  });

  it('a client cannot choose its identity by sending the internal headers itself', async () => {
    const spoof = { 'x-mcp-gateway-user-id': 'mallory', 'x-mcp-gateway-user-name': 'Mallory' };
    const sid = await open('/demo/mcp', alice, spoof);
    const res = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
      ...spoof,
    });
    const msg = (await rpc(res)) as { result: { content: { text: string }[] } };
    expect(JSON.parse(msg.result.content[0]!.text)).toMatchObject({ id: 'local:alice', name: 'alice' });
  });

  it("another user's token cannot use a session (404), and a user outside the allow-list gets 403", async () => {
    const sid = await open('/demo/mcp', alice);
    const bobDemo = (await issueToken(gw, 'bob', 'demo')).access_token;
    const stolen = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${bobDemo}`,
      'mcp-session-id': sid,
    });
    expect(stolen.status).toBe(404);
    const refused = await post('/only/mcp', initialize, {
      authorization: `Bearer ${bob}`,
      'x-request-id': 'r2',
    });
    expect([refused.status, refused.headers.get('x-request-id'), await refused.json()]).toEqual([
      403,
      'r2',
      { error: 'access_denied', error_description: 'this account may not use service "only"' },
    ]);
  });

  it('rfc9728 §5.1: no token is 401 with resource_metadata, a tampered one 401 invalid_token, not echoed', async () => {
    const none = await post('/demo/mcp', initialize);
    expect(none.status).toBe(401);
    // RFC 9449 §7.1: DPoP is on by default, so both schemes are offered, Bearer first, with the same parameters.
    expect(parseWwwAuthenticate(none.headers.get('www-authenticate'))).toEqual(serviceChallenges('demo'));
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = `${alice.slice(0, -4)}AAAA`;
    const tampered = await post('/demo/mcp', initialize, { authorization: `Bearer ${bad}` });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await tampered.text()).not.toContain(bad.slice(0, 20));
    // RFC 6750 §3.1: another scheme is no credentials (401, no code); a Bearer without one token is malformed (400).
    const basic = await post('/demo/mcp', initialize, { authorization: 'Basic abc' });
    expect([basic.status, ((await basic.json()) as { error: string }).error]).toEqual([401, 'unauthorized']);
    const malformed = await post('/demo/mcp', initialize, { authorization: 'Bearer a b' });
    expect([malformed.status, ((await malformed.json()) as { error: string }).error]).toEqual([
      400,
      'invalid_request',
    ]);
  });

  it('CORS: an allowed origin gets its headers on the event stream, another origin 403', async () => {
    const sid = await open('/demo/mcp', alice);
    const ok = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
      origin: 'https://inspector.example',
    });
    expect(ok.headers.get('content-type')).toBe('text/event-stream');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://inspector.example');
    expect(ok.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    await ok.text();
    const evil = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
      origin: 'https://evil.example',
    });
    expect([evil.status, ((await evil.json()) as { error: string }).error]).toEqual([
      403,
      'forbidden_origin',
    ]);
  });

  it('a body over 4 MiB is 413 with a JSON-RPC error, and the session still works', async () => {
    const sid = await open('/demo/mcp', alice);
    const big = await post('/demo/mcp', 'x'.repeat(4 * 1024 * 1024 + 1), {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: -32600 } });
    const after = await post('/demo/mcp', whoami, {
      authorization: `Bearer ${alice}`,
      'mcp-session-id': sid,
    });
    expect(after.status).toBe(200);
    await after.text();
  });

  it('GET opens the session stream and DELETE ends the session (then 404)', async () => {
    const sid = await open('/demo/mcp', alice);
    const controller = new AbortController();
    const stream = await fetch(`${base}/demo/mcp`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${alice}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-06-18',
      },
      signal: controller.signal,
    });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
    controller.abort();
    await stream.body?.cancel().catch(() => {});
    const del = await fetch(`${base}/demo/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${alice}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-06-18',
      },
    });
    expect(del.status).toBe(200);
    const gone = await post('/demo/mcp', whoami, { authorization: `Bearer ${alice}`, 'mcp-session-id': sid });
    expect(gone.status).toBe(404);
    await gone.text();
  });

  it('a chunked body (no Content-Length, streamed to admission) and OPTIONS work', async () => {
    const sid = await open('/demo/mcp', alice);
    const body = JSON.stringify(whoami);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${base}/demo/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${alice}`,
          'mcp-session-id': sid,
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('local:alice');
    const pre = await fetch(`${base}/demo/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
  });

  it('a request line URL parsing would change (a path starting /\\) is answered 4xx, not a 500', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/demo/mcp`, {
        method: 'POST',
        path: '/\\demo/mcp',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(JSON.stringify(initialize));
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });

  it('a client that leaves in the middle of its body gets nothing served: no tool call, no handler call, the server goes on', async () => {
    const sid = await open('/demo/mcp', alice);
    // Calls are counted under the tool's name once the service has published it.
    const listed = await post(
      '/demo/mcp',
      { jsonrpc: '2.0', id: 9, method: 'tools/list' },
      { authorization: `Bearer ${alice}`, 'mcp-session-id': sid },
    );
    await listed.text();
    const whoamiCount = async () =>
      Number(
        /mcp_gateway_tool_calls_total\{service="demo",tool="whoami"\} (\d+)/.exec(
          await (await fetch(`${base}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const callsBefore = await whoamiCount();
    handled = [];
    const { res } = await abandonMidBody(server.server, {
      path: '/demo/mcp',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2025-06-18',
        'Mcp-Session-Id': sid,
        Authorization: `Bearer ${alice}`,
      },
      body: JSON.stringify(whoami),
    });
    expect(res.headersSent).toBe(false);
    expect(server.inFlight).toBe(0);
    expect(handled).toEqual([]);
    expect(await whoamiCount()).toBe(callsBefore);
    // The same session still answers a whole request.
    const ok = await post('/demo/mcp', whoami, { authorization: `Bearer ${alice}`, 'mcp-session-id': sid });
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await rpc(ok))).toContain('local:alice');
    expect(await whoamiCount()).toBe(callsBefore + 1);
  });

  it('MCP requests are counted in /metrics like any other', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/mcp_gateway_tool_calls_total\{service="demo",tool="whoami"\} [1-9]/);
    expect(metrics).toMatch(/mcp_gateway_http_requests_total\{route="service",status="401"\} [1-9]/);
    expect(metrics).toMatch(/mcp_gateway_http_requests_total\{route="service",status="200"\} [1-9]/);
  });
});
