// Issue 20: per-tool policy on a federated endpoint. Without hooks of its own the gateway applies
// `policies.endpoints.<name>` (on the names the client sees) and the owning service's
// `policies.services.<service>` (on the member's names), as a direct call to the service would.
import { createFetchServer } from '@mcp-gateway/fetch-server';
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { ISSUER, rpcResult } from './helpers.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let upstream: Listening;
let page: Listening;
let upstreamCalls = 0;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  page = await listen(() => new Response('hello', { headers: { 'content-type': 'text/plain' } }));
  const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
  upstream = await listen((request) => {
    if (request.method === 'POST') upstreamCalls++;
    return fetchServer(request);
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: ISSUER,
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      upstream: { type: 'http', url: `${upstream.url}/mcp` },
    },
    federated: [{ path: '/mcp', services: ['fetch', 'upstream'], prefix: 'always' }],
    policies: {
      // The service's own policy: bob may not see or call upstream's fetch, wherever he comes from.
      services: {
        upstream: { default: 'allow', rules: [{ effect: 'hide', tools: ['fetch'], users: ['local:bob'] }] },
      },
      // The endpoint's policy, on the names it shows: fetch__fetch only for 127.0.0.1 URLs.
      endpoints: {
        mcp: {
          default: 'allow',
          rules: [
            {
              effect: 'deny',
              tools: ['fetch__fetch'],
              when: '!(urlHost(args.url) in ["127.0.0.1"])',
              reason: 'loopback only here',
            },
          ],
        },
      },
    },
  }));
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, '/mcp')).access_token;
  }
});

afterAll(async () => {
  await upstream?.close();
  await page?.close();
});

/** A JSON-RPC answer. */
interface Answer {
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** A 2026-07-28 request of `user` to the federated endpoint. */
async function post(user: string, method: string, params: Record<string, unknown> = {}): Promise<Answer> {
  const { headers, body } = request2026(method, params, { id: 7 });
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${tokens[user]}` },
    body,
  });
  return await rpcResult(res);
}

const names = async (user: string) =>
  ((await post(user, 'tools/list')) as { result: { tools: { name: string }[] } }).result.tools.map(
    (t) => t.name,
  );

describe('per-tool policy on a federated endpoint', () => {
  it("the owning service's policy hides its tool from bob through the endpoint too; alice sees both", async () => {
    expect(await names('alice')).toEqual(['fetch__fetch', 'upstream__fetch']);
    expect(await names('bob')).toEqual(['fetch__fetch']);
  });

  it("a call the service's policy refuses gets -31010 (2026-07-28's code; -32010 in 2025) and never reaches the member", async () => {
    const before = upstreamCalls;
    const answer = await post('bob', 'tools/call', { name: 'upstream__fetch', arguments: { url: page.url } });
    expect(answer.error?.code).toBe(-31010);
    expect(answer.error?.message).toMatch(/refused by policy/);
    expect(upstreamCalls).toBe(before);
    const allowed = await post('alice', 'tools/call', {
      name: 'upstream__fetch',
      arguments: { url: page.url },
    });
    expect(JSON.stringify(allowed.result)).toContain('hello');
    expect(upstreamCalls).toBe(before + 1);
  });

  it("the endpoint's own policy applies to the names it shows (argument condition)", async () => {
    const denied = await post('alice', 'tools/call', {
      name: 'fetch__fetch',
      arguments: { url: 'http://example.test/' },
    });
    expect(denied.error).toMatchObject({
      code: -31010,
      data: { tool: 'fetch__fetch', reason: 'loopback only here' },
    });
    const ok = await post('alice', 'tools/call', { name: 'fetch__fetch', arguments: { url: page.url } });
    expect(JSON.stringify(ok.result)).toContain('hello');
  });

  it('a policy for an endpoint no federated endpoint is named is refused at load', () => {
    const load = () =>
      resolveConfig(
        {
          issuer: ISSUER,
          services: { fetch: { type: 'fetch' } },
          federated: [{ path: '/team/mcp', name: 'team', services: ['fetch'] }],
          policies: { endpoints: { mcp: { default: 'deny' } } },
        },
        { env: {} },
      );
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['policies.endpoints.mcp']);
    }
  });
});
