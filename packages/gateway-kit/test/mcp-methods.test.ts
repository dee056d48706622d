// Streamable HTTP has POST, GET and DELETE. Any other method on a service's MCP endpoint is 405
// before it reaches a backend: a PUT or PATCH body would otherwise pass to an `http` upstream
// unread by the per-tool policy, the tool-call log and the webhooks.
import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { resolveConfig } from '../src/config/load.js';
import { ConfigError } from '../src/index.js';
import { listeningGateway } from './helpers/listening.js';

let gw: Gateway;
let base: string;
let up: Listening;
let token: string;
const reached: string[] = [];

beforeAll(async () => {
  up = await listen(async (req) => {
    reached.push(`${req.method} ${await req.text()}`);
    return Response.json({ jsonrpc: '2.0', id: 1, result: { content: [] } });
  });
  ({ gw, url: base } = await listeningGateway({
    issuer: 'http://127.0.0.1',
    services: { api: { type: 'http', url: `${up.url}/mcp` } },
  }));
  await gw.users.put('alice', 'alice-password-1');
  token = (await issueToken(gw, 'alice', 'api')).access_token;
});
afterAll(async () => {
  await up?.close();
});

const call = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'delete_all', arguments: {} },
});
const send = (method: string) =>
  fetch(`${base}/api/mcp`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: call,
  });

describe('MCP endpoint methods', () => {
  it('PUT and PATCH are 405 (Allow: GET, POST, DELETE) and never reach the upstream; POST does', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const res = await send(method);
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
      await res.body?.cancel();
    }
    expect(reached).toEqual([]);
    const ok = await send('POST');
    expect(ok.status).toBe(200);
    await ok.text();
    expect(reached).toEqual([`POST ${call}`]);
  });

  it('without a token, any method is 401 first (nothing about the endpoint is told)', async () => {
    const res = await fetch(`${base}/api/mcp`, { method: 'PUT', body: call });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});

describe('http service URLs', () => {
  it('an upstream URL carrying user:password is refused at load, naming the field (credentials go under `credentials`)', () => {
    const load = () =>
      resolveConfig(
        { services: { api: { type: 'http', url: 'https://user:secret@mcp.internal/mcp' } } },
        { env: {} },
      );
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/services\.api\.url.*must not carry credentials/s);
  });
});
