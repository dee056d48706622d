// services.<name>.stateless: the per-user pool behind MCP 2026-07-28 requests is a gateway setting.
// A real gateway on 127.0.0.1 with a real stdio child; raw 2026 requests as a spec-following client sends them.
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { listeningGateway } from './helpers/listening.js';

let base: string;
const tokens: Record<string, string> = {};
const unsharedTokens: Record<string, string> = {};

beforeAll(async () => {
  const { gw, url } = await listeningGateway({
    services: {
      fixture: {
        type: 'stdio',
        ...fixtureMcpServerCommand(),
        stateless: { maxChildrenPerUser: 1, maxQueuedPerUser: 0 },
      },
      unshared: {
        type: 'stdio',
        ...fixtureMcpServerCommand(),
        stateless: { maxChildrenPerUser: 1, maxQueuedPerUser: 0, maxSharedPerChild: 1 },
      },
    },
  });
  for (const user of ['alice', 'bob']) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'fixture')).access_token;
    unsharedTokens[user] = (await issueToken(gw, user, 'unshared')).access_token;
  }
  base = url;
});

/** A 2026 call of `user` to `service`; its client declares `capabilities` (with none, calls may share a child). */
function call(
  user: string,
  name: string,
  args: Record<string, unknown>,
  init: {
    signal?: AbortSignal;
    capabilities?: Record<string, unknown>;
    service?: 'fixture' | 'unshared';
  } = {},
) {
  const { headers, body } = request2026(
    'tools/call',
    { name, arguments: args },
    {
      capabilities: init.capabilities ?? {},
      meta: { 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, progressToken: 'p' },
    },
  );
  const service = init.service ?? 'fixture';
  const token = (service === 'fixture' ? tokens : unsharedTokens)[user];
  return fetch(`${base}/${service}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
    signal: init.signal,
  });
}

/** Starts a slow call and resolves once the child has begun it (its first progress event streams). */
async function slowCall(user: string, init: Parameters<typeof call>[3] = {}) {
  const ac = new AbortController();
  const slow = await call(user, 'slow', { ms: 30_000, steps: 100 }, { ...init, signal: ac.signal });
  expect(slow.status).toBe(200);
  const reader = slow.body!.getReader();
  await vi.waitFor(async () => {
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('notifications/progress');
  });
  return ac;
}

const pidText = async (res: Response) => /"text":"(\d+)"/.exec(await res.text())?.[1];

describe('services.<name>.stateless', () => {
  it('maxChildrenPerUser 1, maxQueuedPerUser 0: a second concurrent 2026 call of the same user gets 429 with Retry-After when its client can be asked for input; another user is served', async () => {
    const elicitation = { elicitation: {} };
    const ac = await slowCall('alice', { capabilities: elicitation });
    const refused = await call('alice', 'pid', {}, { capabilities: elicitation });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const served = await call('bob', 'pid', {});
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/"text":"\d+"/);
    ac.abort();
  });

  it('calls whose client can be asked nothing share the one child (maxSharedPerChild, default 8); maxSharedPerChild 1 keeps them apart', async () => {
    // Once the child of the test before is free again (its client left).
    let before: string | undefined;
    await vi.waitFor(async () =>
      expect((before = await pidText(await call('alice', 'pid', {})))).toBeDefined(),
    );
    const ac = await slowCall('alice');
    const shared = await call('alice', 'pid', {});
    expect(shared.status).toBe(200);
    expect(await pidText(shared)).toBe(before);
    ac.abort();
    const apart = await slowCall('alice', { service: 'unshared' });
    expect((await call('alice', 'pid', {}, { service: 'unshared' })).status).toBe(429);
    apart.abort();
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
