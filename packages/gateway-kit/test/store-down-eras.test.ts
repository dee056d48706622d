// The gateway's own refusals outside a route's own error handling get the JSON-RPC code of the
// caller's era. The token store down while a request is authenticated: 503 with Retry-After in
// both eras, 2025 -32003, 2026-07-28 (which asks implementations not to use -32000…-32019) -32603,
// on a service's route and on a federated endpoint; a federated refusal before a message is read.
import { MemoryStore, storeUnavailable } from '@mcp-gateway/oauth-dynamicclient';
import { request2026 } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { ISSUER, testGateways } from './helpers.js';

/** A memory store that fails every read while `down`. */
class OutageStore extends MemoryStore {
  down = false;
  override get<T>(key: string) {
    if (this.down) return Promise.reject(storeUnavailable(new Error('connection reset')));
    return super.get<T>(key);
  }
}

const { gateway } = testGateways();
const store = new OutageStore();
let gw: Gateway;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  gw = await gateway(
    {
      // Never reached: every request below is refused while authenticated.
      services: { api: { type: 'http', url: 'http://127.0.0.1:9/mcp' } },
      federated: [{ path: '/all', services: ['api'] }],
    },
    { store },
  );
  await gw.users.put('alice', 'alice-password-1');
  tokens.api = (await issueToken(gw, 'alice', 'api')).access_token;
  tokens.all = (await issueToken(gw, 'alice', '/all')).access_token;
});

const legacyInitialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

async function post(path: string, token: string, modern: boolean) {
  const { headers, body } = modern
    ? request2026('tools/list', {}, { id: 1 })
    : {
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(legacyInitialize),
      };
  store.down = true;
  try {
    const res = await gw.fetch(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${token}` },
        body,
      }),
    );
    const answer = (await res.json()) as { error?: { code: number; message: string } };
    return { status: res.status, retry: res.headers.get('retry-after'), body: answer };
  } finally {
    store.down = false;
  }
}

describe('the token store down while authenticating', () => {
  it.each([
    ['a service', '/api/mcp', 'api'],
    ['a federated endpoint', '/all', 'all'],
  ])(
    '%s: 2025 gets -32003, 2026-07-28 gets -32603, both 503 with Retry-After',
    async (_what, path, which) => {
      const legacy = await post(path, tokens[which]!, false);
      expect([legacy.status, legacy.retry, legacy.body.error?.code]).toEqual([503, '5', -32003]);
      const modern = await post(path, tokens[which]!, true);
      expect([modern.status, modern.retry, modern.body.error?.code]).toEqual([503, '5', -32603]);
      expect(modern.body.error?.message).toContain('token store is unavailable');
    },
  );
});

describe("a federated endpoint's refusals before any message is read", () => {
  it('a GET without a session: 404 -32001 for 2025, 404 -32600 for a 2026-07-28 request', async () => {
    const get = async (version: string) => {
      const res = await gw.fetch(
        new Request(`${ISSUER}/all`, {
          headers: {
            accept: 'text/event-stream',
            'mcp-protocol-version': version,
            authorization: `Bearer ${tokens.all}`,
          },
        }),
      );
      return [res.status, ((await res.json()) as { error: { code: number } }).error.code];
    };
    expect(await get('2025-11-25')).toEqual([404, -32001]);
    expect(await get('2026-07-28')).toEqual([404, -32600]);
  });
});
