// A federated endpoint in front of our bridge (SEP-2243 `x-mcp-header`): a real gateway on
// 127.0.0.1 whose `http` member is mcp-streamablehttp-proxy (a real fixture child) on loopback.
// The fixture's `route` tool mirrors `region`, `shard`, `dry` and the nested `target.zone`; the
// bridge refuses a call whose `Mcp-Param-*` headers do not mirror the body (400, -32020). The
// endpoint must send the headers the bridge checks: the same vocabulary on both sides.
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import { fixtureMcpServerCommand, listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let token: string;
let bridge: StdioBridge;
let member: Listening;
/** The `Mcp-Param-*` headers of each `tools/call` the bridge got. */
const calls: Array<Record<string, string>> = [];

beforeAll(async () => {
  bridge = createStdioBridge({ ...fixtureMcpServerCommand(), allowedHosts: 'loopback', logLevel: 'silent' });
  member = await listen((request) => {
    if (request.headers.get('mcp-method') === 'tools/call') {
      const sent: Record<string, string> = {};
      request.headers.forEach((v, k) => {
        if (k.startsWith('mcp-param-')) sent[k] = v;
      });
      calls.push(sent);
    }
    return bridge.fetch(request);
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: { bridge: { type: 'http', url: `${member.url}/mcp` } },
    federated: [{ path: '/all', services: ['bridge'] }],
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/all')).access_token;
});

afterAll(async () => {
  await gw?.close(0);
  await member?.close();
  await bridge?.close();
});

/** A 2026-07-28 `tools/call` of `route` through the federated endpoint. */
async function route(args: Record<string, unknown>) {
  const req = request2026('tools/call', { name: 'route', arguments: args });
  const res = await fetch(`${base}/all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...req.headers },
    body: req.body,
  });
  return (await res.json()) as {
    result?: { content: Array<{ text: string }>; isError?: boolean };
    error?: { code: number; message: string };
  };
}

const b64 = (s: string) => `=?base64?${Buffer.from(s).toString('base64')}?=`;

describe('federated endpoint → bridge member: Mcp-Param-* headers', () => {
  it('mirrors the declared arguments, the nested one included, as the bridge checks them', async () => {
    const args = { region: 'Zürich', shard: 42, dry: false, target: { zone: ' z ' }, query: 'q' };
    calls.length = 0;
    const body = await route(args);
    expect(body.error).toBeUndefined();
    expect(JSON.parse(body.result!.content[0]!.text)).toEqual(args);
    // The first call may come before the endpoint listed the member's tools (refused, listed, asked again).
    expect(calls.at(-1)).toEqual({
      'mcp-param-region': b64('Zürich'),
      'mcp-param-shard': '42',
      'mcp-param-dry': 'false',
      'mcp-param-zone': b64(' z '),
    });
  });

  it('mirrors every value the bridge checks: a fraction on an integer argument reaches the tool, whose own validation answers (no -32020)', async () => {
    calls.length = 0;
    const body = await route({ region: 'eu', shard: 1.5 });
    expect(calls).toEqual([{ 'mcp-param-region': 'eu', 'mcp-param-shard': '1.5' }]);
    // The fixture's own input validation refuses the fraction (a tool error), not the bridge.
    expect(body.error).toBeUndefined();
    expect(body.result).toMatchObject({ isError: true });
    expect(body.result!.content[0]!.text).toMatch(/Input validation error.*shard/);
  });
});
