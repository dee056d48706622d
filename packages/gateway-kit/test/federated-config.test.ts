// Issue 20, federated endpoints: the config is checked at load (members, paths), and the
// hook points a policy engine plugs into (admitCall, filterTools) see every call and list.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFetchServer } from '@mcp-gateway/fetch-server';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ConfigError } from '../src/config/errors.js';
import { resolveConfig } from '../src/config/load.js';
import type { FederatedCall, FederationHooks } from '../src/federation/hooks.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';
import { ISSUER, rpcResult } from './helpers.js';

const services = {
  fetch: { type: 'fetch' },
  other: { type: 'fetch', enabled: false },
};

function issuesOf(federated: unknown[]): string[] {
  try {
    resolveConfig({ issuer: ISSUER, store: { type: 'memory' }, services, federated }, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('federated config is validated at load', () => {
  it('members must be enabled services of the config, each listed once', () => {
    expect(issuesOf([{ path: '/mcp', services: ['fetch', 'nope', 'other', 'fetch'] }])).toEqual([
      'federated[0].services[1]: no enabled service "nope"',
      'federated[0].services[2]: no enabled service "other"',
      'federated[0].services[3]: service "fetch" is listed twice',
    ]);
  });

  it("the path is not a service's MCP path, another endpoint's, or one the gateway serves", () => {
    expect(
      issuesOf([
        { path: '/fetch/mcp', services: ['fetch'] },
        { path: '/admin/mcp', services: ['fetch'] },
        { path: '/mcp', services: ['fetch'] },
        { path: '/mcp', services: ['fetch'] },
      ]),
    ).toEqual([
      'federated[0].path: /fetch/mcp is already the MCP endpoint of service "fetch"',
      'federated[1].path: /admin/mcp is under /admin, which the gateway serves',
      'federated[3].path: /mcp is already the MCP endpoint of federated endpoint /mcp',
    ]);
  });

  it('config check prints each endpoint with its members and the union of their scopes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'federated-check-'));
    const file = path.join(dir, 'mcp-gateway.json');
    const config = {
      issuer: ISSUER,
      store: { type: 'memory' },
      services: { fetch: { type: 'fetch' }, more: { type: 'fetch', scopes: ['a', 'b'] } },
      federated: [{ path: '/mcp', services: ['fetch', 'more'], prefix: 'always' }],
    };
    writeFileSync(file, JSON.stringify(config));
    const out: string[] = [];
    const code = await main(['config', 'check', '--config', file], {
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    expect(out).toContain(`  federated ${ISSUER}/mcp over fetch, more (prefix always; scopes mcp:fetch a b)`);
  });

  it('unknown prefix modes and separators are refused by the schema', () => {
    expect(issuesOf([{ path: '/mcp', services: ['fetch'], prefix: 'sometimes' }])[0]).toMatch(
      /^federated\[0\]\.prefix: /,
    );
    expect(issuesOf([{ path: '/mcp', services: ['fetch'], separator: '/' }])[0]).toMatch(
      /^federated\[0\]\.separator: /,
    );
    expect(issuesOf([{ path: '/mcp', services: ['fetch'] }])).toEqual([]);
  });
});

describe('federation hooks: one point per call, one per tools list', () => {
  let gw: Gateway;
  let upstream: Listening;
  let token: string;
  const calls: FederatedCall[] = [];
  const hooks: FederationHooks = {
    filterTools: (_ctx, tools) => tools.filter((t) => t.service !== 'upstream'),
    admitCall(call) {
      calls.push(call);
      return call.service === 'fetch' ? { code: -32003, message: 'refused by policy' } : undefined;
    },
  };

  beforeAll(async () => {
    const fetchServer = createFetchServer({ allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true });
    upstream = await listen((request) => fetchServer(request));
    const { config } = resolveConfig(
      {
        issuer: ISSUER,
        store: { type: 'memory' },
        services: { fetch: { type: 'fetch' }, upstream: { type: 'http', url: `${upstream.url}/mcp` } },
        federated: [{ path: '/mcp', services: ['fetch', 'upstream'] }],
      },
      { env: {} },
    );
    gw = await createGateway(config, {
      logger: createLogger('silent'),
      processMetrics: false,
      passwordCost: { N: 1024, r: 8, p: 1 },
      federationHooks: hooks,
    });
    await gw.users.put('alice', 'alice-password-1');
    token = (await issueToken(gw, 'alice', '/mcp')).access_token;
  });

  afterAll(async () => {
    await gw?.close(0);
    await upstream?.close();
  });

  /** A 2026-07-28 request to the federated endpoint, through the gateway's fetch handler. */
  async function post(method: string, params: Record<string, unknown> = {}) {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
    };
    if (typeof params.name === 'string') headers['mcp-name'] = params.name;
    const res = await gw.fetch(
      new Request(`${ISSUER}/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }),
      }),
    );
    return rpcResult(res);
  }

  it('filterTools decides what tools/list shows', async () => {
    const { result } = (await post('tools/list')) as {
      result: { tools: Array<{ name: string }>; resultType: string };
    };
    expect(result.resultType).toBe('complete');
    expect(result.tools.map((t) => t.name)).toEqual(['fetch__fetch']);
  });

  it('admitCall sees the owner and the original name, and its refusal is the answer', async () => {
    const answer = await post('tools/call', {
      name: 'fetch__fetch',
      arguments: { url: 'http://127.0.0.1:1/' },
    });
    expect(answer.error).toEqual({ code: -32003, message: 'refused by policy' });
    expect(calls.at(-1)).toMatchObject({
      endpoint: '/mcp',
      service: 'fetch',
      tool: 'fetch',
      name: 'fetch__fetch',
      identity: { sub: 'local:alice' },
    });
  });
});
