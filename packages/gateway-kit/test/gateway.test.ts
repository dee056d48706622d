import { listen, parseWwwAuthenticate, type Listening } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createLogger } from '../src/ops/logger.js';
import { signPayload } from '../src/ops/webhooks.js';
import { ISSUER, rpcResult, serviceChallenges, testGateways } from './helpers.js';

const { cleanups, gateway } = testGateways();

const mcpHeaders = (token?: string, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
  ...extra,
});
const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const post = (gw: Gateway, path: string, body: unknown, token?: string, extra: Record<string, string> = {}) =>
  gw.fetch(
    new Request(`${ISSUER}${path}`, {
      method: 'POST',
      headers: mcpHeaders(token, extra),
      body: JSON.stringify(body),
    }),
  );

async function openSession(gw: Gateway, path: string, token: string): Promise<string> {
  const res = await post(gw, path, initialize, token);
  expect(res.status).toBe(200);
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  await (
    await post(gw, path, { jsonrpc: '2.0', method: 'notifications/initialized' }, token, {
      'mcp-session-id': sid,
    })
  ).text();
  return sid;
}

describe('gateway: every service is its own protected resource', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await gateway({});
    await gw.users.put('alice', 'alice-password', 'Alice');
  });

  it('rfc9728: each service publishes metadata at its path-inserted well-known URL', async () => {
    for (const name of ['fetch', 'demo']) {
      const res = await gw.fetch(new Request(`${ISSUER}/.well-known/oauth-protected-resource/${name}/mcp`));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: `${ISSUER}/${name}/mcp`,
        authorization_servers: [ISSUER],
        scopes_supported: [`mcp:${name}`],
        bearer_methods_supported: ['header'],
        resource_name: expect.any(String),
        dpop_signing_alg_values_supported: expect.arrayContaining(['ES256', 'EdDSA']),
      });
    }
  });

  it('rfc9728 §5.1: a request without a token gets 401 with resource_metadata and the scope', async () => {
    const res = await post(gw, '/demo/mcp', initialize);
    expect(res.status).toBe(401);
    // RFC 9449 §7.1: DPoP is on by default, so both schemes are offered, Bearer first, with the same parameters.
    expect(parseWwwAuthenticate(res.headers.get('www-authenticate'))).toEqual(serviceChallenges('demo'));
    expect(await res.json()).toEqual({
      error: 'unauthorized',
      error_description: 'an access token is required',
    });
  });

  it('rfc6750 §3.1: another scheme (Basic) is a request without credentials: 401, no error code', async () => {
    const res = await post(gw, '/demo/mcp', initialize, undefined, { authorization: 'Basic abc' });
    expect(res.status).toBe(401);
    expect(parseWwwAuthenticate(res.headers.get('www-authenticate'))).toEqual(serviceChallenges('demo'));
    expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
  });

  it('rfc6750 §3.1: a Bearer or DPoP header without one well-formed token is 400 invalid_request', async () => {
    for (const [authorization, scheme] of [
      ['Bearer', 'Bearer'],
      ['Bearer a b', 'Bearer'],
      ['Bearer tok"en', 'Bearer'],
      ['DPoP', 'DPoP'],
    ] as const) {
      const res = await post(gw, '/demo/mcp', initialize, undefined, { authorization });
      expect(res.status, authorization).toBe(400);
      const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate'));
      // The error is on the scheme the client used (RFC 9449 §7.1 for DPoP).
      expect(challenges.find((c) => c.scheme === scheme)?.params.error, authorization).toBe(
        'invalid_request',
      );
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
  });

  it('rfc8707: a token whose audience is another service is refused with invalid_token', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const res = await post(gw, '/fetch/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(res.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource/fetch/mcp');
  });

  it('a tampered token is 401 invalid_token, and nothing of it is echoed', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const bad = access_token.slice(0, -4) + 'AAAA';
    const res = await post(gw, '/demo/mcp', initialize, bad);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(bad.slice(0, 20));
  });

  it('stdio: the signed-in user reaches the bridged server, which sees who they are', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const sid = await openSession(gw, '/demo/mcp', access_token);
    // Listing the tools lets /metrics count calls under the tool's name (see the /metrics test below).
    await (
      await post(gw, '/demo/mcp', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, access_token, {
        'mcp-session-id': sid,
      })
    ).text();
    const res = await post(
      gw,
      '/demo/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
      access_token,
      {
        'mcp-session-id': sid,
      },
    );
    const msg = (await rpcResult(res)) as { result: { content: { text: string }[] } };
    expect(JSON.parse(msg.result.content[0]!.text)).toMatchObject({ id: 'local:alice', name: 'alice' });
  });

  it("stdio: another user's token cannot use alice's session (404)", async () => {
    await gw.users.put('bob', 'bob-password-1');
    const alice = await issueToken(gw, 'alice', 'demo');
    const bob = await issueToken(gw, 'bob', 'demo');
    const sid = await openSession(gw, '/demo/mcp', alice.access_token);
    const res = await post(
      gw,
      '/demo/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      bob.access_token,
      { 'mcp-session-id': sid },
    );
    expect(res.status).toBe(404);
  });

  it('stdio: a crashing child gives the caller a JSON-RPC error and the gateway stays up', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const sid = await openSession(gw, '/demo/mcp', access_token);
    const res = await post(
      gw,
      '/demo/mcp',
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'crash', arguments: {} } },
      access_token,
      {
        'mcp-session-id': sid,
      },
    );
    const msg = await rpcResult(res);
    expect(msg).toMatchObject({
      jsonrpc: '2.0',
      id: 9,
      error: { code: expect.any(Number), message: expect.stringMatching(/exit/i) },
    });
    expect((await gw.fetch(new Request(`${ISSUER}/healthz`))).status).toBe(200);
    const again = await post(
      gw,
      '/demo/mcp',
      { jsonrpc: '2.0', id: 10, method: 'tools/list' },
      access_token,
      { 'mcp-session-id': sid },
    );
    expect(again.status).toBe(404);
    expect((await openSession(gw, '/demo/mcp', access_token)).length).toBeGreaterThan(0);
  });

  it('an over-large body is refused with 413 before reaching the service', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const res = await gw.fetch(
      new Request(`${ISSUER}/demo/mcp`, {
        method: 'POST',
        headers: mcpHeaders(access_token),
        body: 'x'.repeat(4 * 1024 * 1024 + 1),
      }),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('/servers lists the services with their URLs and metadata; /healthz, /readyz, /metrics, /openapi.json answer', async () => {
    const servers = (await (await gw.fetch(new Request(`${ISSUER}/servers`))).json()) as {
      servers: { name: string; url: string }[];
    };
    expect(servers.servers.map((s) => [s.name, s.url])).toEqual([
      ['fetch', `${ISSUER}/fetch/mcp`],
      ['demo', `${ISSUER}/demo/mcp`],
    ]);
    const ready = await gw.fetch(new Request(`${ISSUER}/readyz`));
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { store: true, 'service:fetch': true, 'service:demo': true } },
    ]);
    const metrics = await (await gw.fetch(new Request(`${ISSUER}/metrics`))).text();
    expect(metrics).toContain('mcp_gateway_tool_calls_total{service="demo",tool="whoami"}');
    expect(metrics).toMatch(/mcp_gateway_http_requests_total\{route="service",status="401"\} \d+/);
    const api = (await (await gw.fetch(new Request(`${ISSUER}/openapi.json`))).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(api.openapi).toBe('3.1.0');
    expect(Object.keys(api.paths)).toEqual(
      expect.arrayContaining(['/verify', '/servers', '/admin/services/{name}', '/demo/mcp', '/fetch/mcp']),
    );
  });

  it('every response carries a request id (given or generated)', async () => {
    const given = await gw.fetch(
      new Request(`${ISSUER}/healthz`, { headers: { 'x-request-id': 'abc-123' } }),
    );
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await gw.fetch(
      new Request(`${ISSUER}/healthz`, { headers: { 'x-request-id': 'bad id\n' } }),
    );
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('gateway: http services', () => {
  let upstream: Listening;
  const seen: Headers[] = [];
  beforeAll(async () => {
    upstream = await listen(async (req) => {
      seen.push(req.headers);
      const body = (await req.json()) as { id: number };
      return Response.json({ jsonrpc: '2.0', id: body.id, result: { ok: true } });
    });
    cleanups.push(() => upstream.close());
  });

  it("the client's token never reaches the upstream; the gateway credential and X-User-* do", async () => {
    const gw = await gateway({
      services: {
        api: {
          type: 'http',
          url: `${upstream.url}/mcp`,
          credentials: { type: 'bearer', token: 'upstream-secret' },
        },
      },
    });
    await gw.users.put('alice', 'alice-password');
    const { access_token } = await issueToken(gw, 'alice', 'api');
    const res = await post(gw, '/api/mcp', { jsonrpc: '2.0', id: 4, method: 'ping' }, access_token, {
      'x-user-id': 'mallory',
    });
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 4, result: { ok: true } });
    const h = seen.at(-1)!;
    expect(h.get('authorization')).toBe('Bearer upstream-secret');
    expect(h.get('x-user-id')).toBe('local:alice');
    expect(h.get('x-user-name')).toBe('alice');
    expect([...h.values()].join(' ')).not.toContain(access_token);
  });

  it('backend down: 502 with JSON-RPC error -32000 carrying the request id; the gateway stays up', async () => {
    const dead = await listen(() => new Response(null));
    const url = dead.url;
    await dead.close();
    const gw = await gateway({ services: { api: { type: 'http', url: `${url}/mcp` } } });
    await gw.users.put('alice', 'alice-password');
    const { access_token } = await issueToken(gw, 'alice', 'api');
    const res = await post(gw, '/api/mcp', { jsonrpc: '2.0', id: 77, method: 'tools/list' }, access_token);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 77,
      error: { code: -32000, message: expect.stringMatching(/^service "api" is unavailable/) },
    });
    expect((await gw.fetch(new Request(`${ISSUER}/readyz`))).status).toBe(503);
  });
});

describe('gateway: routing by host', () => {
  it('a host-routed service answers on its host at /mcp, with its metadata on that host; trustProxy reads X-Forwarded-Host', async () => {
    const gw = await gateway({
      trustProxy: true,
      services: { f: { type: 'fetch', host: 'fetch.example.com' } },
    });
    await gw.users.put('alice', 'alice-password');
    const meta = await gw.fetch(
      new Request('http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp', {
        headers: { 'x-forwarded-host': 'fetch.example.com' },
      }),
    );
    expect(await meta.json()).toMatchObject({ resource: 'http://fetch.example.com/mcp' });
    const { access_token } = await issueToken(gw, 'alice', 'f');
    const res = await gw.fetch(
      new Request('http://127.0.0.1:8080/mcp', {
        method: 'POST',
        headers: mcpHeaders(access_token, { 'x-forwarded-host': 'fetch.example.com' }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      }),
    );
    expect(res.status).toBe(200);
    // Without trusting the proxy header, the same request is not routed to the service.
    const strict = await gateway({ services: { f: { type: 'fetch', host: 'fetch.example.com' } } });
    const miss = await strict.fetch(
      new Request('http://127.0.0.1:8080/mcp', {
        method: 'POST',
        headers: mcpHeaders(access_token, { 'x-forwarded-host': 'fetch.example.com' }),
        body: '{}',
      }),
    );
    expect(miss.status).toBe(404);
  });
});

describe('gateway: access control and the admin API', () => {
  it('a service restricted to some users answers 403 access_denied to others', async () => {
    const gw = await gateway({ services: { secret: { type: 'fetch', users: ['local:alice'] } } });
    await gw.users.put('alice', 'alice-password');
    await gw.users.put('bob', 'bob-password');
    const bob = await issueToken(gw, 'bob', 'secret');
    const res = await post(
      gw,
      '/secret/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      bob.access_token,
    );
    expect([res.status, await res.json()]).toEqual([
      403,
      { error: 'access_denied', error_description: 'this account may not use service "secret"' },
    ]);
    const alice = await issueToken(gw, 'alice', 'secret');
    expect(
      (await post(gw, '/secret/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, alice.access_token))
        .status,
    ).toBe(200);
    const listed = async (token?: string) =>
      (
        (await (
          await gw.fetch(
            new Request(`${ISSUER}/servers`, { headers: token ? { authorization: `Bearer ${token}` } : {} }),
          )
        ).json()) as { servers: unknown[] }
      ).servers.length;
    expect([await listed(), await listed(bob.access_token), await listed(alice.access_token)]).toEqual([
      0, 0, 1,
    ]);
  });

  it('admin API: only admins with mcp:admin; services added at runtime are served, persisted and removable', async () => {
    const gw = await gateway({ services: {} });
    await gw.users.put('admin', 'admin-password');
    await gw.users.put('bob', 'bob-password');
    const url = `${ISSUER}/admin/services/notes`;
    const none = await gw.fetch(new Request(url, { method: 'PUT', body: '{}' }));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain(
      `resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/admin"`,
    );
    const bob = await issueToken(gw, 'bob', 'admin');
    const denied = await gw.fetch(
      new Request(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${bob.access_token}` },
        body: '{}',
      }),
    );
    expect([denied.status, ((await denied.json()) as { error: string }).error]).toEqual([
      403,
      'access_denied',
    ]);
    const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
    const auth = { authorization: `Bearer ${admin}` };
    const invalid = await gw.fetch(
      new Request(url, { method: 'PUT', headers: auth, body: JSON.stringify({ type: 'http' }) }),
    );
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error_description: string }).error_description).toContain('url');
    const put = await gw.fetch(
      new Request(url, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ type: 'fetch', title: 'Notes' }),
      }),
    );
    expect(put.status).toBe(201);
    expect([put.headers.get('cache-control'), invalid.headers.get('cache-control')]).toEqual([
      'no-store',
      'no-store',
    ]);
    expect(await put.json()).toMatchObject({
      name: 'notes',
      origin: 'runtime',
      url: `${ISSUER}/notes/mcp`,
      scopes: ['mcp:notes'],
    });
    const meta = await gw.fetch(new Request(`${ISSUER}/.well-known/oauth-protected-resource/notes/mcp`));
    expect(meta.status).toBe(200);
    await gw.users.put('alice', 'alice-password');
    const userToken = await issueToken(gw, 'alice', 'notes');
    expect(
      (await post(gw, '/notes/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, userToken.access_token))
        .status,
    ).toBe(200);
    // Another gateway on the same store sees it.
    const { config } = resolveConfig({ issuer: ISSUER, services: {} }, { env: {} });
    const twin = await createGateway(config, {
      store: gw.store,
      logger: createLogger('silent'),
      processMetrics: false,
      bootstrapAdmin: false,
    });
    expect(twin.services.get('notes')?.origin).toBe('runtime');
    await twin.services.close();
    const del = await gw.fetch(new Request(url, { method: 'DELETE', headers: auth }));
    expect(del.status).toBe(204);
    expect(
      (await gw.fetch(new Request(`${ISSUER}/.well-known/oauth-protected-resource/notes/mcp`))).status,
    ).toBe(404);
  });

  it('admin API: upstream credentials are never shown back', async () => {
    const gw = await gateway({
      services: {
        up: {
          type: 'http',
          url: 'https://up.example/mcp',
          credentials: { type: 'bearer', token: 'T0P-SECRET' },
        },
      },
    });
    await gw.users.put('admin', 'admin-password');
    const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
    const res = await gw.fetch(
      new Request(`${ISSUER}/admin/services`, { headers: { authorization: `Bearer ${admin}` } }),
    );
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('T0P-SECRET');
    expect(text).toContain('"redacted":true');
  });
});

describe('gateway: webhooks', () => {
  it('tool calls and registrations are POSTed signed, without tool arguments or tokens', async () => {
    const got: { body: string; sig: string | null }[] = [];
    const rx = await listen(async (req) => {
      got.push({ body: await req.text(), sig: req.headers.get('x-mcp-signature') });
      return new Response(null, { status: 204 });
    });
    cleanups.push(() => rx.close());
    const secret = 'webhook-secret-0123456789';
    const gw = await gateway({
      webhooks: [
        { url: `${rx.url}/hook`, secret, events: ['tool_call', 'registration', 'login', 'consent', 'token'] },
      ],
    });
    await gw.users.put('alice', 'alice-password');
    const { access_token } = await issueToken(gw, 'alice', 'demo');
    const sid = await openSession(gw, '/demo/mcp', access_token);
    await (
      await post(
        gw,
        '/demo/mcp',
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'private words' } },
        },
        access_token,
        { 'mcp-session-id': sid },
      )
    ).text();
    const reg = await gw.fetch(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:3333/cb'],
          client_name: 'Hooked',
          token_endpoint_auth_method: 'none',
        }),
      }),
    );
    expect(reg.status).toBe(201);
    await gw.webhooks.idle();
    const events = got.map((g) => {
      expect(g.sig).toBe(signPayload(secret, g.body));
      return JSON.parse(g.body) as { type: string; action: string; data: Record<string, unknown> };
    });
    const tool = events.find((e) => e.type === 'tool_call')!;
    expect(tool.data).toEqual({
      service: 'demo',
      tool: 'echo',
      user: 'local:alice',
      client: 'mcp-gateway-cli',
    });
    expect(events.some((e) => e.type === 'registration' && e.action === 'client.registered')).toBe(true);
    // `mcp-gateway token` is an operator grant: no sign-in, the consent and the token audited as such.
    expect(events.some((e) => e.type === 'login')).toBe(false);
    expect(events.find((e) => e.type === 'consent')).toMatchObject({
      action: 'consent.given',
      data: { sub: 'local:alice', clientId: 'mcp-gateway-cli' },
    });
    expect(events.find((e) => e.type === 'token')).toMatchObject({
      action: 'token.issued',
      data: { sub: 'local:alice', clientId: 'mcp-gateway-cli', source: 'operator', refresh: false },
    });
    const all = got.map((g) => g.body).join('\n');
    expect(all).not.toContain('private words');
    expect(all).not.toContain(access_token.slice(0, 30));
  });
});
