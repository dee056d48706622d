// services.<name>.stateless: the per-user pool behind MCP 2026-07-28 requests is a gateway setting.
// A real gateway on 127.0.0.1 with a real stdio child; raw 2026 requests as a spec-following client sends them.
import { fixtureMcpServerCommand } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createNodeServer, type NodeServer } from '../src/http/node.js';
import { createLogger } from '../src/ops/logger.js';

const V2026 = '2026-07-28';
let gw: Gateway;
let server: NodeServer;
let base: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1',
      store: { type: 'memory' },
      services: {
        fixture: {
          type: 'stdio',
          ...fixtureMcpServerCommand(),
          stateless: { maxChildrenPerUser: 1, maxQueuedPerUser: 0 },
        },
      },
    },
    { env: {} },
  );
  gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
  });
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'fixture')).access_token;
  }
  server = createNodeServer(gw.fetch);
  base = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.drain(0);
  await gw?.close(0);
});

function call(
  user: string,
  name: string,
  args: Record<string, unknown>,
  init: { signal?: AbortSignal } = {},
) {
  return fetch(`${base}/fixture/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens[user]}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2026,
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
          progressToken: 'p',
        },
      },
    }),
    signal: init.signal,
  });
}

describe('services.<name>.stateless', () => {
  it('maxChildrenPerUser 1, maxQueuedPerUser 0: a second concurrent 2026 call of the same user gets 429 with Retry-After; another user is served', async () => {
    const ac = new AbortController();
    const slow = await call('alice', 'slow', { ms: 30_000, steps: 100 }, { signal: ac.signal });
    expect(slow.status).toBe(200);
    // The child has begun the call once its first progress event streams.
    const reader = slow.body!.getReader();
    await vi.waitFor(async () => {
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toContain('notifications/progress');
    });
    const refused = await call('alice', 'pid', {});
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const served = await call('bob', 'pid', {});
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/"text":"\d+"/);
    ac.abort();
  });

  it('a bad value is refused at load with its path', () => {
    expect(() =>
      resolveConfig(
        {
          issuer: 'http://127.0.0.1',
          services: { s: { type: 'stdio', command: 'x', stateless: { maxChildrenPerUser: 0 } } },
        },
        { env: {} },
      ),
    ).toThrow(/services\.s\.stateless\.maxChildrenPerUser/);
  });
});
