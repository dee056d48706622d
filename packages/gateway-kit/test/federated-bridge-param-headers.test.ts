// A federated endpoint in front of our bridge (SEP-2243 `x-mcp-header`): a real gateway on
// 127.0.0.1 whose `http` member is mcp-streamablehttp-proxy (a real fixture child) on loopback.
// The fixture's `route` tool mirrors `region`, `shard`, `dry` and the nested `target.zone`; the
// bridge refuses a call whose `Mcp-Param-*` headers do not mirror the body (400, -32020). The
// endpoint must send the headers the bridge checks: the same vocabulary on both sides. And the
// endpoint checks its own 2026-07-28 callers' headers as the bridge checks its (a 2025 session's
// are not looked at).
import { createStdioBridge, type StdioBridge } from '@mcp-gateway/streamablehttp-proxy';
import {
  fixtureMcpServerCommand,
  listen,
  rawSession,
  request2026,
  type Listening,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let token: string;
/** Alice's token for `/fresh`, an endpoint over the same member that lists nothing before its first call. */
let freshToken: string;
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
    federated: [
      { path: '/all', services: ['bridge'] },
      { path: '/fresh', services: ['bridge'], prefix: 'always' },
    ],
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', '/all')).access_token;
  freshToken = (await issueToken(gw, 'alice', '/fresh')).access_token;
});

afterAll(async () => {
  await gw?.close(0);
  await member?.close();
  await bridge?.close();
});

/** The fixture's `route` tool's `inputSchema` as listed: what a 2026-07-28 client mirrors headers by. */
const ROUTE_SCHEMA = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    shard: { type: 'integer', 'x-mcp-header': 'Shard' },
    dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
    target: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
    query: { type: 'string' },
  },
};

type CallBody = {
  id?: unknown;
  result?: { content: Array<{ text: string }>; isError?: boolean };
  error?: { code: number; message: string };
};

/**
 * A 2026-07-28 `tools/call` of `name` (default `route`) through the federated endpoint `path`, with the
 * `Mcp-Param-*` headers a client sends (`headers` on top: other values, or `undefined` to leave one out).
 */
async function call2026(
  args: Record<string, unknown>,
  headers: Record<string, string | undefined> = {},
  { path = '/all', name = 'route', bearer = token } = {},
) {
  const req = request2026('tools/call', { name, arguments: args }, { inputSchema: ROUTE_SCHEMA });
  const sent: Record<string, string> = { authorization: `Bearer ${bearer}`, ...req.headers };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete sent[k];
    else sent[k] = v;
  }
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: sent, body: req.body });
  return { status: res.status, body: (await res.json()) as CallBody };
}

/** A 2026-07-28 `tools/call` of `route` through `/all`, as a client sends it. */
async function route(args: Record<string, unknown>) {
  return (await call2026(args)).body;
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

describe("federated endpoint: its 2026-07-28 callers' Mcp-Param-* headers are checked (SEP-2243)", () => {
  it('a header unlike the argument, or missing while the argument is set, is 400 -32020 and never reaches the member', async () => {
    await route({ region: 'eu' }); // the endpoint has listed the member's tools
    calls.length = 0;
    const unlike = await call2026({ region: 'eu', shard: 3 }, { 'mcp-param-region': 'us' });
    expect(unlike.status).toBe(400);
    expect(unlike.body).toMatchObject({ id: 1, error: { code: -32020 } });
    expect(unlike.body.error!.message).toMatch(/Mcp-Param-Region.*arguments\.region/);
    const missing = await call2026({ region: 'eu', target: { zone: 'b' } }, { 'mcp-param-zone': undefined });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: -32020 });
    expect(missing.body.error!.message).toMatch(
      /Mcp-Param-Zone header is required \(arguments\.target\.zone is set\)/,
    );
    // Numbers compare numerically, encoded values decoded: as the bridge checks them.
    const alike = await call2026({ region: 'Zürich', shard: 42 }, { 'mcp-param-shard': '42.0' });
    expect(alike.status).toBe(200);
    expect(JSON.parse(alike.body.result!.content[0]!.text)).toEqual({ region: 'Zürich', shard: 42 });
    expect(calls).toHaveLength(1);
    // A 2025 session's call is not checked (2025 clients send none); the member gets the endpoint's own.
    const session = await rawSession(`${base}/all`, token, '2025-11-25');
    calls.length = 0;
    const res = await fetch(`${base}/all`, {
      method: 'POST',
      headers: { ...session, 'mcp-param-region': 'us' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'route', arguments: { region: 'eu' } },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CallBody;
    expect(JSON.parse(body.result!.content[0]!.text)).toEqual({ region: 'eu' });
    expect(calls).toEqual([{ 'mcp-param-region': 'eu' }]);
  });

  it('a call before any list of the endpoint (prefix always) is checked too: the tools are listed first', async () => {
    calls.length = 0;
    const res = await call2026(
      { region: 'eu' },
      { 'mcp-param-region': 'ap' },
      { path: '/fresh', name: 'bridge__route', bearer: freshToken },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: -32020 });
    expect(calls).toEqual([]);
  });
});
