// A federated endpoint's own errors at MCP 2026-07-28 (basic "Error Codes": implementations SHOULD
// NOT use -32000…-32019): a 2026-07-28 caller gets them as the bridge answers its own, -32603 for a
// member that cannot serve (unreachable, late) and 429/5xx refusals, -32600 for a request that
// cannot be accepted; a 2025 session keeps the codes it always had, and a member's own error is
// passed on as the member sent it. A real gateway on 127.0.0.1 (member timeout 1 s) with real
// members on loopback: `down` (an http service whose upstream port is closed), `raw` (a 2026-07-28
// server whose `wait` never answers, whose `fail` answers its own -32000 and whose `needs` answers
// its own -32021 with HTTP 400) and `old` (a 2025-only
// SDK 1.x server whose `wait` never answers, asked through a 2025 session of the endpoint's).
import { listen, rawSession, request2026, type Listening } from '@mcp-gateway/testkit';
import { RELAYS_TO_2025_META } from '@mcp-gateway/streamablehttp-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let token: string;
let raw: Listening;
let old: LegacyServer;
/** Held calls of the members, answered when the file ends (their servers can then close). */
const held: Array<() => void> = [];
const hold = () => new Promise<void>((resolve) => held.push(resolve));

/** The `needs` tool's own refusal. */
const NEEDS_SAMPLING = {
  code: -32021,
  message: 'Missing required client capability: sampling',
  data: { requiredCapabilities: { sampling: {} } },
};

type RpcBody = { result?: Record<string, unknown>; error?: { code: number; message: string } };

/**
 * A raw 2026-07-28 member: tools `wait` (never answers), `fail` (its own -32000) and `needs` (its
 * own -32021 MissingRequiredClientCapability, HTTP 400 as the spec says).
 */
/** The `_meta` of each `tools/call` the raw member was sent. */
const rawCallMetas: Record<string, unknown>[] = [];

function rawMember(): Promise<Listening> {
  return listen(async (request) => {
    const msg = (await request.json()) as {
      id: number;
      method: string;
      params: { name?: string; _meta?: Record<string, unknown> };
    };
    if (msg.method === 'tools/call') rawCallMetas.push(msg.params._meta ?? {});
    const answer = (body: object) => Response.json({ jsonrpc: '2.0', id: msg.id, ...body });
    if (msg.method === 'tools/list') {
      const tools = ['wait', 'fail', 'needs'].map((name) => ({ name, inputSchema: { type: 'object' } }));
      return answer({ result: { resultType: 'complete', tools } });
    }
    if (msg.method === 'tools/call' && msg.params.name === 'wait') {
      await hold();
      return answer({ result: { resultType: 'complete', content: [] } });
    }
    if (msg.method === 'tools/call' && msg.params.name === 'needs')
      return Response.json({ jsonrpc: '2.0', id: msg.id, error: NEEDS_SAMPLING }, { status: 400 });
    if (msg.method === 'tools/call')
      return answer({ error: { code: -32000, message: 'the member refuses' } });
    return Response.json(
      { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } },
      { status: 404 },
    );
  });
}

beforeAll(async () => {
  raw = await rawMember();
  old = await legacyMcpServer((mcp) => {
    mcp.registerTool('wait', {}, async () => {
      await hold();
      return { content: [] };
    });
  });
  // A port nothing listens on any more.
  const closed = await listen(() => new Response(null));
  await closed.close();
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: {
      down: { type: 'http', url: `${closed.url}/mcp` },
      raw: { type: 'http', url: `${raw.url}/mcp` },
      old: { type: 'http', url: `${old.url}/mcp` },
      slow: { type: 'http', url: `${raw.url}/mcp`, timeout: 1 },
    },
    federated: [{ path: '/mcp', services: ['down', 'raw', 'old'], prefix: 'always', timeout: 1 }],
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/mcp')).access_token;
});

afterAll(async () => {
  for (const release of held.splice(0)) release();
  await gw?.close(0);
  await raw?.close();
  await old?.close();
});

/** A raw 2026-07-28 request to the endpoint. */
async function post2026(method: string, params: Record<string, unknown>, accept?: string) {
  const req = request2026(method, params, accept ? { accept } : {});
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...req.headers },
    body: req.body,
  });
  return { status: res.status, body: (await res.json()) as RpcBody };
}

/** `tools/call` of `name` in a 2025 session of the endpoint. */
async function call2025(name: string) {
  const session = await rawSession(`${base}/mcp`, token, '2025-11-25');
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { ...session, accept: 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
  });
  return { status: res.status, body: (await res.json()) as RpcBody };
}

const call2026 = (name: string) => post2026('tools/call', { name, arguments: {} });

describe('federated endpoint: its own errors at 2026-07-28 use no legacy code (-32000…-32019)', () => {
  it("a member that cannot be reached: -32603 at 2026-07-28, -32000 in a 2025 session; a member's own -32000 stays", async () => {
    const modern = await call2026('down__anything');
    expect(modern.status).toBe(200);
    expect(modern.body.error).toMatchObject({ code: -32603 });
    expect(modern.body.error!.message).toMatch(/service "down" is unavailable/);
    expect((await call2025('down__anything')).body.error).toMatchObject({ code: -32000 });
    // A member's own error is passed on as it sent it, legacy code and all.
    expect((await call2026('raw__fail')).body.error).toEqual({ code: -32000, message: 'the member refuses' });
  });

  it("a 2025 session's call reaches an http member without the bridge's relaysTo2025 hint (stdio members only)", async () => {
    rawCallMetas.length = 0;
    expect((await call2025('raw__fail')).body.error).toMatchObject({ code: -32000 });
    expect(rawCallMetas).toHaveLength(1);
    expect(Object.keys(rawCallMetas[0]!)).not.toContain(RELAYS_TO_2025_META);
    expect(rawCallMetas[0]!['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
  });

  it("a member's own -32021 (MissingRequiredClientCapability) is HTTP 400 at 2026-07-28, as the member sent it; 200 in a 2025 session", async () => {
    const modern = await call2026('raw__needs');
    expect(modern.status).toBe(400);
    expect(modern.body.error).toEqual(NEEDS_SAMPLING);
    // A 2025 session's JSON-RPC errors are all HTTP 200.
    const legacy = await call2025('raw__needs');
    expect([legacy.status, legacy.body.error?.code]).toEqual([200, -32021]);
  });

  it('a member past the endpoint timeout: -32603 at 2026-07-28 (2026 member and 2025-only member), -32001 in a 2025 session', async () => {
    const [modern, legacy, session] = await Promise.all([
      call2026('raw__wait'),
      call2026('old__wait'),
      call2025('raw__wait'),
    ]);
    expect(modern.body.error).toMatchObject({
      code: -32603,
      message: 'service "raw" did not answer within 1s',
    });
    expect(legacy.body.error).toMatchObject({
      code: -32603,
      message: 'service "old" did not answer within 1s',
    });
    expect(session.body.error).toMatchObject({ code: -32001 });
  });

  it('subscriptions/listen without text/event-stream in Accept: 406 with -32600 (not -32000)', async () => {
    const res = await post2026(
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      'application/json',
    );
    expect(res.status).toBe(406);
    expect(res.body.error).toMatchObject({ code: -32600 });
    expect(res.body.error!.message).toMatch(/Not Acceptable/);
  });
});

describe("a service's own endpoint: the gateway's errors at 2026-07-28 use no legacy code either", () => {
  /** `tools/call` of `name` straight to service `service` (`/<service>/mcp`) at 2026-07-28. */
  async function direct(service: string, name: string) {
    const token = (await issueToken(gw, 'alice', service)).access_token;
    const req = request2026('tools/call', { name, arguments: {} });
    return post(service, token, req.headers, req.body);
  }

  /** A POST of `body` to `/<service>/mcp`. */
  async function post(service: string, token: string, headers: Record<string, string>, body: string) {
    const res = await fetch(`${base}/${service}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as RpcBody };
  }

  it('an upstream that cannot be reached: 502 with -32603 at 2026-07-28, -32000 to a 2025 initialize', async () => {
    const modern = await direct('down', 'anything');
    expect(modern.status).toBe(502);
    expect(modern.body.error).toMatchObject({ code: -32603 });
    expect(modern.body.error!.message).toMatch(/service "down" is unavailable/);
    // A 2025 client's initialize gets the code it always had.
    const token = (await issueToken(gw, 'alice', 'down')).access_token;
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const legacy = await post('down', token, headers, JSON.stringify(init));
    expect([legacy.status, legacy.body.error?.code]).toEqual([502, -32000]);
  });

  it("an upstream past the service's timeout: 504 with -32603 at 2026-07-28; its own -32000 answer passes as sent", async () => {
    const modern = await direct('slow', 'wait');
    expect(modern.status).toBe(504);
    expect(modern.body.error).toMatchObject({
      code: -32603,
      message: 'service "slow" did not answer within 1s',
    });
    expect((await direct('slow', 'fail')).body.error).toEqual({
      code: -32000,
      message: 'the member refuses',
    });
  });
});
