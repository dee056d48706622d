// services.<name>.stateless: the per-user pool behind MCP 2026-07-28 requests is a gateway setting.
// A real gateway on 127.0.0.1 with a real stdio child; raw 2026 requests as a spec-following client sends them.
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway } from './helpers/listening.js';

let base: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const { gw, url } = await listeningGateway({
    services: {
      fixture: {
        type: 'stdio',
        ...fixtureMcpServerCommand(),
        stateless: { maxChildrenPerUser: 1, maxQueuedPerUser: 0 },
      },
    },
  });
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'fixture')).access_token;
  }
  base = url;
});

function call(
  user: string,
  name: string,
  args: Record<string, unknown>,
  init: { signal?: AbortSignal } = {},
) {
  const { headers, body } = request2026(
    'tools/call',
    { name, arguments: args },
    { meta: { 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, progressToken: 'p' } },
  );
  return fetch(`${base}/fixture/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[user]}`, ...headers },
    body,
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
