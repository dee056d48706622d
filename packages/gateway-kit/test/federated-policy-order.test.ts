// Issue 20, the order of a federated call's checks and `readOnly` rules: a 2026-07-28 request whose
// `Mcp-Name` header mismatches its body is refused for that (-32020, HTTP 400) before any policy
// sees it, on the federated endpoint as on a direct service route; and a policy that allows only
// read-only tools lets a read-only tool through on the first call of a session or user, without a
// `tools/list` first (the endpoint looks the tool's annotations up in the members' lists, cached).
// Real gateway on 127.0.0.1, the testkit's stdio fixture (`echo` is annotated read-only, `pid` not).
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let url: string;
const tokens: Record<string, string> = {};
const USERS = ['alice', 'bob', 'carol', 'dave'] as const;

/** Only read-only tools, on the endpoint (`/mcp`) and on the service (`/svc` over `fixture`). */
const readOnlyOnly = { default: 'deny' as const, rules: [{ effect: 'allow' as const, readOnly: true }] };

beforeAll(async () => {
  ({ gw, url } = await listeningGateway({
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: { type: 'stdio', ...fixtureMcpServerCommand() },
      guarded: { type: 'stdio', ...fixtureMcpServerCommand() },
    },
    federated: [
      { path: '/mcp', services: ['fetch', 'fixture'], prefix: 'always', separator: '.' },
      { path: '/svc', services: ['guarded'], prefix: 'never' },
    ],
    policies: { endpoints: { mcp: readOnlyOnly }, services: { guarded: readOnlyOnly } },
  }));
  for (const user of USERS) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[`${user}/mcp`] = (await issueToken(gw, user, '/mcp')).access_token;
    tokens[`${user}/svc`] = (await issueToken(gw, user, '/svc')).access_token;
    tokens[`${user}/guarded`] = (await issueToken(gw, user, 'guarded')).access_token;
  }
});

/** The token of `user` for the MCP URL `path` (`/mcp`, `/svc`: federated endpoints; `/guarded/mcp`: the service). */
const tokenFor = (user: string, path: string) =>
  tokens[path.endsWith('/mcp') && path !== '/mcp' ? `${user}${path.slice(0, -4)}` : `${user}${path}`];

/** A 2026-07-28 `tools/call` of `user` to `path`, its `Mcp-Name` header `mcpName` (default: the body's name). */
async function call2026(user: string, path: string, name: string, mcpName = name) {
  const { body, headers } = request2026('tools/call', { name, arguments: { text: 'hi' } }, { id: 5 });
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'mcp-name': mcpName, authorization: `Bearer ${tokenFor(user, path)}` },
    body,
  });
  const text = await res.text();
  // A JSON answer, or the last event of a stream.
  const last = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .findLast((l) => l.startsWith('data:'))!
        .slice(5);
  const json = JSON.parse(last) as {
    result?: { content: Array<{ text: string }> };
    error?: { code: number; message: string };
  };
  return { status: res.status, ...json };
}

const deniedCount = async () => {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('mcp_gateway_policy_denials_total') && !l.startsWith('#'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
};

describe('SEP-2243 before policy: a mismatched Mcp-Name is refused for that, never evaluated', () => {
  it('on the federated endpoint: -32020 (HTTP 400) for a tool the policy would refuse, no policy decision', async () => {
    const before = await deniedCount();
    const r = await call2026('alice', '/mcp', 'fixture.pid', 'fixture.echo');
    expect(r.status).toBe(400);
    expect(r.error?.code).toBe(-32020);
    expect(await deniedCount()).toBe(before);
  });

  it('on a direct service route the same', async () => {
    const before = await deniedCount();
    const r = await call2026('alice', '/guarded/mcp', 'pid', 'echo');
    expect(r.status).toBe(400);
    expect(r.error?.code).toBe(-32020);
    expect(await deniedCount()).toBe(before);
  });
});

describe('readOnly rules on the first call, without a tools/list seen', () => {
  it('2026-07-28, endpoint policy: a read-only tool goes through, another is refused', async () => {
    const ok = await call2026('bob', '/mcp', 'fixture.echo');
    expect(ok.result?.content[0]!.text).toBe('hi');
    const refused = await call2026('bob', '/mcp', 'fixture.pid');
    expect(refused.error?.code).toBe(-31010);
  });

  it("2026-07-28, the owning service's policy through a federated endpoint", async () => {
    const ok = await call2026('carol', '/svc', 'echo');
    expect(ok.result?.content[0]!.text).toBe('hi');
    expect((await call2026('carol', '/svc', 'pid')).error?.code).toBe(-31010);
  });

  it('a 2025 session (SDK 1.x client) calls a read-only tool right after initialize', async () => {
    const client = new ClientV1({ name: 'sdk1', version: '1' });
    await client.connect(
      new TransportV1(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokens['dave/mcp']}` } },
      }),
    );
    try {
      const r = await client.callTool({ name: 'fixture.echo', arguments: { text: 'first' } });
      expect((r.content as Array<{ text: string }>)[0]!.text).toBe('first');
      await expect(client.callTool({ name: 'fixture.pid', arguments: {} })).rejects.toMatchObject({
        code: -32010,
      });
    } finally {
      await client.close();
    }
  });
});
