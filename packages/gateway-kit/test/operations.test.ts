import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const ISSUER = 'http://127.0.0.1:8080';
const gateways: Gateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(0)));
});

async function gatewayWithLogs(input: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const { config } = resolveConfig({ issuer: ISSUER, store: { type: 'memory' }, ...input }, { env: {} });
  const gw = await createGateway(config, { logger: createLogger('debug', sink), processMetrics: false });
  gateways.push(gw);
  return { gw, lines };
}

describe('operations: structured logs', () => {
  it('every request line carries a request id, and no token, password or code ever reaches the logs', async () => {
    const { gw, lines } = await gatewayWithLogs();
    await gw.users.put('alice', 'alice-secret-password');
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const res = await gw.fetch(
      new Request(`${ISSUER}/demo/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'c', version: '1' },
          },
        }),
      }),
    );
    await res.text();
    await gw.fetch(new Request(`${ISSUER}/authorize?code=should-not-appear&state=x`));
    await gw.fetch(
      new Request(`${ISSUER}/demo/mcp`, {
        method: 'POST',
        headers: { authorization: 'Bearer not.a.token' },
        body: '{}',
      }),
    );
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = parsed.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const r of requests) expect(r.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests.map((r) => r.path)).toContain('/authorize');
    const all = lines.join('\n');
    expect(all).not.toContain(access_token.split('.')[2]!);
    expect(all).not.toContain('alice-secret-password');
    expect(all).not.toContain('should-not-appear');
    expect(all).not.toContain('not.a.token');
  });
});

describe('operations: CORS on MCP endpoints', () => {
  it('an allowed origin gets a preflight answer and exposed headers; another origin gets 403 forbidden_origin', async () => {
    const { gw } = await gatewayWithLogs({ cors: { origins: ['http://localhost:6274'] } });
    const pre = await gw.fetch(
      new Request(`${ISSUER}/fetch/mcp`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Mcp-Session-Id');
    const challenge = await gw.fetch(
      new Request(`${ISSUER}/fetch/mcp`, {
        method: 'POST',
        headers: { origin: 'http://localhost:6274' },
        body: '{}',
      }),
    );
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    const evil = await gw.fetch(
      new Request(`${ISSUER}/fetch/mcp`, {
        method: 'POST',
        headers: { origin: 'https://evil.example' },
        body: '{}',
      }),
    );
    expect([evil.status, await evil.json()]).toEqual([
      403,
      { error: 'forbidden_origin', error_description: 'origin https://evil.example is not allowed' },
    ]);
    const preEvil = await gw.fetch(
      new Request(`${ISSUER}/fetch/mcp`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }),
    );
    expect(preEvil.status).toBe(403);
  });
});
