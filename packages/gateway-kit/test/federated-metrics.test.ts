// Issue 20: a federated endpoint's metrics on a real gateway on 127.0.0.1: its tool calls
// counted in `mcp_gateway_tool_calls_total` under the owning service and the member's own
// tool name (unpublished names as `other`, as on the service's route), and its refused
// requests in `mcp_gateway_auth_failures_total` under the endpoint's path.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createNodeServer, type NodeServer } from '../src/http/node.js';
import { createLogger } from '../src/ops/logger.js';

let gw: Gateway;
let server: NodeServer;
let base: string;
let page: Listening;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  page = await listen(() => new Response('hello', { headers: { 'content-type': 'text/plain' } }));
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      services: {
        web: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
        secret: { type: 'fetch', allowHosts: ['127.0.0.1'], users: ['local:alice'] },
      },
      federated: [
        { path: '/mcp', services: ['web'], prefix: 'always' },
        { path: '/private', services: ['secret'] },
      ],
    },
    { env: {} },
  );
  gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  for (const user of ['alice', 'bob']) await gw.users.put(user, `${user}-password-1`);
  tokens.mcp = (await issueToken(gw, 'alice', '/mcp')).access_token;
  tokens.bobPrivate = (await issueToken(gw, 'bob', '/private')).access_token;
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
  await page?.close();
});

/** The value of one series in `/metrics` (0 when absent). */
async function series(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('federated endpoint metrics', () => {
  it('tool calls count under the owning service and its own tool name; errors are not calls', async () => {
    const client = new Client({ name: 'sdk1', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokens.mcp}` } },
      }),
    );
    const calls = () => series('mcp_gateway_tool_calls_total', 'service="web",tool="fetch"');
    const before = await calls();
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['web__fetch']);
    const result = await client.callTool({ name: 'web__fetch', arguments: { url: `${page.url}/` } });
    expect(result.isError).toBeFalsy();
    await client.callTool({ name: 'web__fetch', arguments: { url: `${page.url}/again` } });
    // An unknown tool is refused by the endpoint: not a call.
    await expect(client.callTool({ name: 'web__nope', arguments: {} })).rejects.toThrow();
    expect(await calls()).toBe(before + 2);
    expect(await series('mcp_gateway_tool_calls_total', 'service="web",tool="nope"')).toBe(0);
    await client.close();
  });

  it('refused requests count as auth failures of the endpoint', async () => {
    const failures = (reason: string) =>
      series('mcp_gateway_auth_failures_total', `service="/mcp",reason="${reason}"`);
    const missing = await failures('missing');
    const invalid = await failures('invalid_token');
    const post = (endpoint: string, authorization?: string) =>
      fetch(`${base}${endpoint}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    expect((await post('/mcp')).status).toBe(401);
    expect((await post('/mcp', 'Bearer not-a-token')).status).toBe(401);
    // bob may use no member of /private.
    expect((await post('/private', `Bearer ${tokens.bobPrivate}`)).status).toBe(403);
    expect(await failures('missing')).toBe(missing + 1);
    expect(await failures('invalid_token')).toBe(invalid + 1);
    expect(
      await series('mcp_gateway_auth_failures_total', 'service="/private",reason="user_not_allowed"'),
    ).toBe(1);
  });
});
