// http services added through the admin API may not give an admin the gateway's network: their
// host is resolved and every address checked when they are added and on each connection, and the
// gateway connects to the address it checked. The resolver is injected so a name can "resolve" to
// 10.0.0.1 or 169.254.169.254; traffic only ever goes to loopback servers.
import { listen, type Listening } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/config/schema.js';
import type { Gateway } from '../src/gateway/create.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createLogger } from '../src/ops/logger.js';
import { resourcesOf } from '../src/gateway/resources.js';
import { RUNTIME_SERVICES_KEY } from '../src/services/registry.js';
import { sharedStoreSecret } from '../src/store/shared-secret.js';
import { SecretBox } from '../src/upstream/secret-box.js';
import { UpstreamTokenVault } from '../src/upstream/token-vault.js';
import { ISSUER, testGateways } from './helpers.js';
import { PUBLIC, perLookup, testResolver } from './helpers/resolver.js';

const { cleanups, gateway: testGateway } = testGateways();
const { names, resolver } = testResolver();

/** A loopback MCP upstream that counts what reaches it. */
interface Upstream extends Listening {
  hits: { method: string; host: string | null; path: string }[];
}
async function upstream(answer?: (req: Request) => Response | Promise<Response>): Promise<Upstream> {
  const hits: Upstream['hits'] = [];
  const server = await listen(async (req) => {
    hits.push({ method: req.method, host: req.headers.get('host'), path: new URL(req.url).pathname });
    if (answer) return answer(req);
    const body = (await req.json()) as { id: number };
    return Response.json({ jsonrpc: '2.0', id: body.id, result: { tools: [] } });
  });
  cleanups.push(() => server.close());
  return Object.assign(server, { hits });
}

/** A gateway with the test resolver, its admin and alice; its log lines go to `lines` when given. */
async function gateway(input: GatewayConfigInput, lines?: Record<string, unknown>[]): Promise<Gateway> {
  const logger = lines
    ? createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) })
    : undefined;
  const gw = await testGateway(input, { resolver, ...(logger ? { logger } : {}) });
  await gw.users.put('admin', 'admin-password');
  await gw.users.put('alice', 'alice-password');
  return gw;
}

const putService = async (gw: Gateway, name: string, body: unknown) => {
  const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
  return gw.fetch(
    new Request(`${ISSUER}/admin/services/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
};

const toolsList = async (gw: Gateway, service: string, id = 1) => {
  const { access_token } = await issueToken(gw, 'alice', service);
  return gw.fetch(
    new Request(`${ISSUER}/${service}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }),
    }),
  );
};

let up: Upstream;
beforeAll(async () => {
  up = await upstream();
});

describe('admin API: runtime http services reach public addresses only (admin.allowPrivateHttpServices)', () => {
  it('an upstream on loopback, private, link-local, unique-local, CGNAT or cloud metadata addresses is refused with 400 address_not_allowed, by IP literal or by a name that resolves there; nothing is stored', async () => {
    const gw = await gateway({ services: {} });
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${up.port}/mcp`, /127\.0\.0\.1 is a loopback address/],
      ['http://[fd00::1]/mcp', /unique-local/],
      ['http://[::ffff:192.168.1.1]/mcp', /private \(RFC 1918\) .*ipv4Mapped/],
      ['http://169.254.10.10/mcp', /link-local/],
      ['http://100.64.0.1/mcp', /carrier-grade NAT/],
    ];
    for (const [url, why] of cases) {
      const res = await putService(gw, 'x', { type: 'http', url });
      const body = (await res.json()) as Record<string, string>;
      expect([url, res.status, body.error, body.setting]).toEqual([
        url,
        400,
        'address_not_allowed',
        'admin.allowPrivateHttpServices',
      ]);
      expect(body.error_description).toMatch(why);
      expect(body.error_description).toContain('admin.allowPrivateHttpServices: true');
    }
    // Cloud metadata by IP literal: no setting lets it through.
    const imds = await putService(gw, 'x', { type: 'http', url: 'http://169.254.169.254/latest/meta-data' });
    const imdsBody = (await imds.json()) as Record<string, string>;
    expect([imds.status, imdsBody.error, imdsBody.setting]).toEqual([400, 'address_not_allowed', undefined]);
    expect(imdsBody.error_description).toMatch(/169\.254\.169\.254 is a cloud metadata address/);
    expect(gw.services.get('x')).toBeUndefined();
    expect(await gw.store.get(RUNTIME_SERVICES_KEY)).toBeUndefined();
    expect(up.hits).toEqual([]);
    // A public one is added (and nothing is sent to it by adding it).
    names['public.test'] = [PUBLIC];
    expect((await putService(gw, 'x', { type: 'http', url: 'https://public.test/mcp' })).status).toBe(201);
  });

  it('a host name is refused without revealing the gateway’s DNS: no resolved address in the answer (the log has it), and a name that resolves to an internal address answers exactly as one that does not resolve', async () => {
    const lines: Record<string, unknown>[] = [];
    const gw = await gateway({ services: {} }, lines);
    names['internal.test'] = ['10.0.0.1'];
    names['mixed.test'] = [PUBLIC, '10.1.2.3'];
    names['imds.test'] = ['169.254.169.254'];
    names['mapped.test'] = ['::ffff:192.168.7.7'];
    const answer = async (host: string) => {
      const res = await putService(gw, 'x', { type: 'http', url: `http://${host}/mcp` });
      const text = (await res.text()).replaceAll(host, 'HOST');
      return { status: res.status, text };
    };
    const nowhere = await answer('nowhere.test');
    expect(nowhere.status).toBe(400);
    expect(JSON.parse(nowhere.text)).toEqual({
      error: 'address_not_allowed',
      error_description:
        'url http://HOST: HOST could not be resolved or resolves to a non-public address. An http service added through the admin API may reach internal addresses only when the config sets admin.allowPrivateHttpServices: true.',
      setting: 'admin.allowPrivateHttpServices',
    });
    for (const host of ['internal.test', 'mixed.test', 'imds.test', 'mapped.test']) {
      expect([host, await answer(host)]).toEqual([host, nowhere]);
    }
    const refusals = lines.filter((l) => l.msg === 'runtime http service refused');
    expect(refusals.map((l) => [l.service, l.url, l.reason])).toEqual([
      ['x', 'http://nowhere.test', 'could not resolve nowhere.test (ENOTFOUND)'],
      ['x', 'http://internal.test', 'internal.test resolves to 10.0.0.1, a private (RFC 1918) address'],
      ['x', 'http://mixed.test', 'mixed.test resolves to 10.1.2.3, a private (RFC 1918) address'],
      ['x', 'http://imds.test', 'imds.test resolves to 169.254.169.254, a cloud metadata address'],
      [
        'x',
        'http://mapped.test',
        'mapped.test resolves to ::ffff:c0a8:707, a private (RFC 1918) (192.168.7.7 embedded as ipv4Mapped) address',
      ],
    ]);
    expect(gw.services.get('x')).toBeUndefined();
  });

  it('a runtime service whose name resolves to a private address at request time is refused before connecting: 502 with JSON-RPC -32000 naming the kind of address, not the address', async () => {
    const gw = await gateway({ services: {} });
    names['rebind.test'] = [PUBLIC];
    expect(
      (await putService(gw, 'rebind', { type: 'http', url: `http://rebind.test:${up.port}/mcp` })).status,
    ).toBe(201);
    // DNS changes after the check: now the name leads to the gateway's own loopback, where a server listens.
    names['rebind.test'] = ['127.0.0.1'];
    const before = up.hits.length;
    const res = await toolsList(gw, 'rebind', 41);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { id: number; error: { code: number; message: string } };
    expect(body).toEqual({
      jsonrpc: '2.0',
      id: 41,
      error: {
        code: -32000,
        message:
          'service "rebind" is unavailable: its upstream host resolves to a loopback address, which services added through the admin API may not reach',
      },
    });
    expect(up.hits.length).toBe(before);
    // And to the metadata endpoint: the same, and /readyz says the service is not ready.
    names['rebind.test'] = ['169.254.169.254'];
    const imds = await toolsList(gw, 'rebind', 42);
    expect([imds.status, ((await imds.json()) as { error: { message: string } }).error.message]).toEqual([
      502,
      expect.stringContaining('a cloud metadata address'),
    ]);
    expect((await gw.fetch(new Request(`${ISSUER}/readyz`))).status).toBe(503);
    // An IPv6 form that embeds the address names the kind only, not the embedded address either.
    names['rebind.test'] = ['::ffff:10.9.8.7'];
    const mapped = await toolsList(gw, 'rebind', 43);
    expect(((await mapped.json()) as { error: { message: string } }).error.message).toBe(
      'service "rebind" is unavailable: its upstream host resolves to a private (RFC 1918) address, which services added through the admin API may not reach',
    );
  });

  it('config-file http services are the operator’s: one on 127.0.0.1 answers, while the same URL as a runtime service already in the store (another instance, an older release) is refused per request', async () => {
    const url = `http://127.0.0.1:${up.port}/mcp`;
    const gw = await gateway({ services: { local: { type: 'http', url } } });
    await gw.store.set(RUNTIME_SERVICES_KEY, { stored: { type: 'http', url } });
    await gw.services.refresh();
    gw.authorization.setResources(resourcesOf(gw.services, ISSUER, gw.config.federated));
    expect(gw.services.get('stored')?.origin).toBe('runtime');
    const before = up.hits.length;
    const local = await toolsList(gw, 'local', 7);
    expect([local.status, await local.json()]).toEqual([
      200,
      { jsonrpc: '2.0', id: 7, result: { tools: [] } },
    ]);
    expect(up.hits.length).toBe(before + 1);
    const stored = await toolsList(gw, 'stored', 8);
    expect([stored.status, ((await stored.json()) as { error: { code: number } }).error.code]).toEqual([
      502, -32000,
    ]);
    expect(up.hits.length).toBe(before + 1);
  });
});

/** alice connected `service` once; her access token has expired, so her next call refreshes it. */
async function expiredTokens(gw: Gateway, service: string, issuer?: string): Promise<UpstreamTokenVault> {
  const box = new SecretBox(await sharedStoreSecret(gw.store, 'gateway:upstream-secret'), 'upstream-tokens');
  const vault = new UpstreamTokenVault(gw.store, box);
  await vault.put(service, 'local:alice', {
    ...(issuer !== undefined ? { issuer } : {}),
    accessToken: 'at-old',
    refreshToken: 'rt-1',
    expiresAt: Date.now() - 1000,
    connectedAt: Date.now() - 3_600_000,
  });
  return vault;
}

/**
 * A protected upstream on loopback reached as `http://<host>:<port>`: its RFC 9728 document names
 * itself as the authorization server, whose metadata names `endpoints` (host names) for
 * registration and tokens; `hits` counts every path asked.
 */
async function signInUpstream(
  host: string,
  endpoints: { registration: string; token: string },
): Promise<Upstream & { origin: string }> {
  const late = { origin: '' };
  const server = await upstream((req) => {
    const path = new URL(req.url).pathname;
    const at = (name: string) => `http://${name}:${server.port}`;
    if (path === '/.well-known/oauth-protected-resource/mcp')
      return Response.json({ resource: `${late.origin}/mcp`, authorization_servers: [late.origin] });
    if (path === '/.well-known/oauth-authorization-server')
      return Response.json({
        issuer: late.origin,
        // The browser's page: http only on a loopback host (MCP security best practices); the
        // requests under test are the gateway's own (registration, token).
        authorization_endpoint: `http://localhost:${new URL(late.origin).port}/authorize`,
        registration_endpoint: `${at(endpoints.registration)}/register`,
        token_endpoint: `${at(endpoints.token)}/token`,
        code_challenge_methods_supported: ['S256'],
      });
    if (path === '/register') return Response.json({ client_id: 'gateway-client' }, { status: 201 });
    if (path === '/token') return Response.json({ access_token: 'at-2', token_type: 'Bearer' });
    return new Response(null, { status: 404 });
  });
  late.origin = `http://${host}:${server.port}`;
  return Object.assign(server, late);
}

describe('runtime http services with upstream sign-in keep the rule', () => {
  const LOOPBACK_SIGN_IN =
    "is unavailable: its upstream's sign-in resolves to a loopback address, is further inside the network than the gateway may go for it";

  it('a token refresh of a runtime oauth service whose name now resolves to loopback is refused before its discovery request is sent (502); the tokens are kept', async () => {
    const gw = await gateway({ services: {} });
    names['signin.test'] = [PUBLIC];
    const signInUp = await upstream(() => new Response(null, { status: 404 }));
    const url = `http://signin.test:${signInUp.port}/mcp`;
    expect(
      (await putService(gw, 'remote', { type: 'http', url, credentials: { type: 'oauth' } })).status,
    ).toBe(201);
    const vault = await expiredTokens(gw, 'remote');
    names['signin.test'] = ['127.0.0.1'];
    const res = await toolsList(gw, 'remote', 11);
    expect([res.status, ((await res.json()) as { error: { message: string } }).error.message]).toEqual([
      502,
      expect.stringContaining('resolves to a loopback address'),
    ]);
    expect(signInUp.hits).toEqual([]);
    expect((await vault.get('remote', 'local:alice'))?.accessToken).toBe('at-old');
  });

  it('the registration and token requests of a refresh are refused before they are sent when their host resolves to loopback by then, though it was public when discovered (502); the tokens are kept', async () => {
    // Private services allowed, so discovery can reach the loopback stub: the upstream's own host
    // has a loopback and a public address (counted as public), and no other host it names may lead
    // to loopback. Each endpoint's host answers public when discovery checks it, loopback after.
    const gw = await gateway({ services: {}, admin: { allowPrivateHttpServices: true } });
    const cases = [
      { service: 'reg', credentials: { type: 'oauth' }, refused: '/register' },
      { service: 'tok', credentials: { type: 'oauth', clientId: 'by-hand' }, refused: '/token' },
    ];
    for (const { service, credentials, refused } of cases) {
      const [own, reg, tok] = [`${service}.test`, `reg.${service}.test`, `tok.${service}.test`];
      names[own] = ['127.0.0.1', PUBLIC];
      names[reg] = perLookup([PUBLIC], ['127.0.0.1']);
      names[tok] = perLookup([PUBLIC], ['127.0.0.1']);
      const stub = await signInUpstream(own, { registration: reg, token: tok });
      const url = `${stub.origin}/mcp`;
      expect((await putService(gw, service, { type: 'http', url, credentials })).status).toBe(201);
      const vault = await expiredTokens(gw, service, stub.origin);
      const res = await toolsList(gw, service, 12);
      expect([service, res.status, await res.json()]).toEqual([
        service,
        502,
        {
          jsonrpc: '2.0',
          id: 12,
          error: { code: -32000, message: `service "${service}" ${LOOPBACK_SIGN_IN}` },
        },
      ]);
      // Discovery went through (its unauthenticated probe of the MCP endpoint first); the refused
      // request was never sent, nor anything after it.
      expect(stub.hits.map((h) => h.path)).toEqual([
        '/mcp',
        '/.well-known/oauth-protected-resource/mcp',
        '/.well-known/oauth-authorization-server',
      ]);
      expect(stub.hits.map((h) => h.path)).not.toContain(refused);
      expect((await vault.get(service, 'local:alice'))?.accessToken).toBe('at-old');
    }
  });
});

describe('admin.allowPrivateHttpServices: true', () => {
  it('lets a runtime service reach a loopback upstream, connecting to the address the gateway resolved (the Host stays the name); cloud metadata stays refused', async () => {
    const gw = await gateway({ services: {}, admin: { allowPrivateHttpServices: true } });
    // The system resolver knows nothing of this name: only the checked address can be reached.
    names['upstream.test'] = ['127.0.0.1'];
    const put = await putService(gw, 'inside', { type: 'http', url: `http://upstream.test:${up.port}/mcp` });
    expect(put.status).toBe(201);
    const res = await toolsList(gw, 'inside', 9);
    expect([res.status, await res.json()]).toEqual([200, { jsonrpc: '2.0', id: 9, result: { tools: [] } }]);
    expect(up.hits.at(-1)).toEqual({ method: 'POST', host: `upstream.test:${up.port}`, path: '/mcp' });
    expect(
      (await putService(gw, 'direct', { type: 'http', url: `http://127.0.0.1:${up.port}/mcp` })).status,
    ).toBe(201);
    expect((await toolsList(gw, 'direct', 10)).status).toBe(200);
    const imds = await putService(gw, 'imds', { type: 'http', url: 'http://169.254.169.254/latest' });
    expect([imds.status, ((await imds.json()) as { error: string }).error]).toEqual([
      400,
      'address_not_allowed',
    ]);
    // By name: the kind of address, not the address (nor the one an IPv6 form embeds).
    names['imds.test'] = ['::ffff:169.254.169.254'];
    const byName = await putService(gw, 'imds', { type: 'http', url: 'http://imds.test/latest' });
    expect([byName.status, await byName.json()]).toEqual([
      400,
      {
        error: 'address_not_allowed',
        error_description:
          'url http://imds.test: imds.test resolves to a cloud metadata address. Cloud metadata endpoints are never reachable through the gateway.',
      },
    ]);
    // Internal names are the admin's to reach here, so one that does not resolve says so.
    const nowhere = await putService(gw, 'nowhere', { type: 'http', url: 'http://nowhere.test/mcp' });
    expect([nowhere.status, await nowhere.json()]).toEqual([
      400,
      {
        error: 'invalid_service',
        error_description:
          'url http://nowhere.test: could not resolve nowhere.test (ENOTFOUND), so where it leads cannot be checked',
      },
    ]);
  });

  it('every checked address is tried: a name whose first address does not answer reaches the upstream at its second', async () => {
    const gw = await gateway({ services: {}, admin: { allowPrivateHttpServices: true } });
    // 127.0.0.2 is loopback too, and nothing listens on the upstream's port there.
    names['two.test'] = ['127.0.0.2', '127.0.0.1'];
    const url = `http://two.test:${up.port}/mcp`;
    expect((await putService(gw, 'two', { type: 'http', url })).status).toBe(201);
    const res = await toolsList(gw, 'two', 12);
    expect([res.status, await res.json()]).toEqual([200, { jsonrpc: '2.0', id: 12, result: { tools: [] } }]);
    expect(up.hits.at(-1)).toEqual({ method: 'POST', host: `two.test:${up.port}`, path: '/mcp' });
  });

  it('redirects are never followed: the readiness probe of a runtime service that redirects elsewhere sends nothing there', async () => {
    const elsewhere = await upstream(() => new Response('secret'));
    const redirecting = await upstream(
      () => new Response(null, { status: 302, headers: { location: `${elsewhere.url}/latest/meta-data` } }),
    );
    const gw = await gateway({ services: {}, admin: { allowPrivateHttpServices: true } });
    expect((await putService(gw, 'hop', { type: 'http', url: `${redirecting.url}/mcp` })).status).toBe(201);
    const call = await toolsList(gw, 'hop');
    expect([call.status, call.headers.get('location')]).toEqual([302, `${elsewhere.url}/latest/meta-data`]);
    const ready = await gw.fetch(new Request(`${ISSUER}/readyz`));
    expect(ready.status).toBe(200);
    expect(redirecting.hits.map((h) => h.method)).toEqual(['POST', 'GET']);
    expect(elsewhere.hits).toEqual([]);
  });
});
