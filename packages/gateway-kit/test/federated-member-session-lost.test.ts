// A federated endpoint holds a 2025 session with each 2025-only member for its caller. When the
// member forgets it (a restart; or, for an `http` member, the gateway's own session binding past
// its idle timeout) it answers `404` `-32001` "Session not found": the request was not served
// there, so the endpoint opens a new session and sends it once more. The caller gets the result,
// never the member's legacy code (which a 2026-07-28 caller must not be sent). A real gateway on
// 127.0.0.1 with a real SDK 1.x member on loopback.
import { rawSession, request2026 } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let token: string;
let member: LegacyServer;

type RpcBody = { result?: { content?: Array<{ text?: string }> }; error?: { code: number; message: string } };

beforeAll(async () => {
  member = await legacyMcpServer((mcp) => {
    mcp.registerTool('hello', {}, () => ({ content: [{ type: 'text', text: 'hi' }] }));
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: { old: { type: 'http', url: `${member.url}/mcp` } },
    federated: [{ path: '/mcp', services: ['old'], prefix: 'always' }],
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/mcp')).access_token;
});

afterAll(async () => {
  await gw?.close(0);
  await member?.close();
});

async function call2026(): Promise<RpcBody> {
  const req = request2026('tools/call', { name: 'old__hello', arguments: {} });
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...req.headers },
    body: req.body,
  });
  return (await res.json()) as RpcBody;
}

async function call2025(session: Record<string, string>): Promise<RpcBody> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { ...session, accept: 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'old__hello', arguments: {} },
    }),
  });
  return (await res.json()) as RpcBody;
}

describe('federated endpoint: a 2025 member that forgot its session', () => {
  it('a 2026-07-28 call is sent once more in a new session: the result, not "Session not found"', async () => {
    expect((await call2026()).result?.content?.[0]?.text).toBe('hi');
    const opened = member.opened.length;
    member.forget();
    const again = await call2026();
    expect(again.error).toBeUndefined();
    expect(again.result?.content?.[0]?.text).toBe('hi');
    expect(member.opened.length).toBe(opened + 1);
  });

  it('a 2025 session of the endpoint likewise', async () => {
    const session = await rawSession(`${base}/mcp`, token, '2025-11-25');
    expect((await call2025(session)).result?.content?.[0]?.text).toBe('hi');
    member.forget();
    expect((await call2025(session)).result?.content?.[0]?.text).toBe('hi');
  });
});
