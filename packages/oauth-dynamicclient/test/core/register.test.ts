import { listen } from '@mcp-gateway/testkit';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { onlyLocalRedirects } from '../../src/clients/redirect-uri.js';
import { MemoryStore } from '../../src/store/index.js';
import { json, nativeClient, testServer } from '../helpers/server.js';

type Body = Record<string, unknown>;

async function register(call: ReturnType<typeof testServer>['call'], metadata: unknown, headers = {}) {
  const res = await call('/register', json(metadata, headers));
  return { res, body: (await res.json()) as Body };
}

describe('rfc7591 registration', () => {
  it('rfc7591: a public client gets client_id, issued_at and a registration access token, no secret', async () => {
    const { call, clock } = testServer();
    const { res, body } = await register(call, nativeClient);
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(body).toMatchObject({
      client_id: expect.any(String),
      client_id_issued_at: Math.floor(clock.now() / 1000),
      registration_access_token: expect.any(String),
      registration_client_uri: `https://as.example.com/register/${body.client_id as string}`,
      redirect_uris: nativeClient.redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      client_name: 'Test Client',
    });
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('client_secret_expires_at');
  });

  it('rfc7591: a confidential client gets client_secret and client_secret_expires_at 0; defaults filled in', async () => {
    const { call } = testServer();
    const { res, body } = await register(call, { redirect_uris: ['https://app.example/cb'] });
    expect(res.status).toBe(201);
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.client_secret_expires_at).toBe(0);
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(body.grant_types).toEqual(['authorization_code']);
    expect(body.application_type).toBe('web');
  });

  it('rfc7591: secrets and registration tokens are stored only as hashes', async () => {
    const { call, server } = testServer();
    const { body } = await register(call, { redirect_uris: ['https://app.example/cb'] });
    const stored = JSON.stringify(await server.store.get(`client:${body.client_id as string}`));
    expect(stored).not.toContain(body.client_secret as string);
    expect(stored).not.toContain(body.registration_access_token as string);
  });

  it('rfc7591: unknown metadata is ignored and unsupported scopes are dropped', async () => {
    const { call } = testServer();
    const { res, body } = await register(call, {
      ...nativeClient,
      scope: 'mcp:read claudeai mcp:read',
      jwks: { keys: [] },
      made_up: 1,
    });
    expect(res.status).toBe(201);
    expect(body.scope).toBe('mcp:read');
    expect(body).not.toHaveProperty('made_up');
    expect(body).not.toHaveProperty('jwks');
  });

  it('rfc7591: application_type is inferred native for private-use schemes, and web cannot use them', async () => {
    const { call } = testServer();
    const a = await register(call, { ...nativeClient, redirect_uris: ['com.example.app:/oauth/cb'] });
    expect(a.body.application_type).toBe('native');
    const b = await register(call, {
      ...nativeClient,
      application_type: 'web',
      redirect_uris: ['com.example.app:/oauth/cb'],
    });
    expect(b.res.status).toBe(400);
    expect(b.body.error).toBe('invalid_redirect_uri');
  });

  it.each<[string, Record<string, unknown>, 'web' | 'native']>([
    [
      'native with loopback http',
      { application_type: 'native', redirect_uris: ['http://127.0.0.1:5/cb'] },
      'native',
    ],
    [
      'native with a private-use scheme',
      { application_type: 'native', redirect_uris: ['com.example.app:/cb'] },
      'native',
    ],
    [
      'native with a claimed https URI',
      { application_type: 'native', redirect_uris: ['https://app.example/cb'] },
      'native',
    ],
    ['web with https', { application_type: 'web', redirect_uris: ['https://app.example/cb'] }, 'web'],
    [
      'no application_type with https (OIDC default web)',
      { redirect_uris: ['https://app.example/cb'] },
      'web',
    ],
    ['no application_type with only loopback http', { redirect_uris: ['http://localhost:5/cb'] }, 'native'],
  ])('sep-837: %s registers and the response echoes application_type', async (_name, metadata, type) => {
    const { call } = testServer();
    const { res, body } = await register(call, { ...nativeClient, ...metadata });
    expect(res.status).toBe(201);
    expect(body.application_type).toBe(type);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'web with loopback http',
      { application_type: 'web', redirect_uris: ['http://127.0.0.1:5/cb'] },
      'invalid_redirect_uri',
      /must use https/,
    ],
    [
      'web with localhost',
      { application_type: 'web', redirect_uris: ['https://app.example/cb', 'http://localhost/cb'] },
      'invalid_redirect_uri',
      /must use https/,
    ],
    [
      'web with a private-use scheme',
      { application_type: 'web', redirect_uris: ['com.example.app:/cb'] },
      'invalid_redirect_uri',
      /private-use/,
    ],
    [
      'native with non-loopback http',
      { application_type: 'native', redirect_uris: ['http://app.example/cb'] },
      'invalid_redirect_uri',
      /loopback|localhost/,
    ],
    [
      'an unknown application_type',
      { application_type: 'desktop' },
      'invalid_client_metadata',
      /application_type/,
    ],
  ])('sep-837: %s is refused with the RFC 7591 error', async (_name, metadata, error, description) => {
    const { call } = testServer();
    const { res, body } = await register(call, { ...nativeClient, ...metadata });
    expect(res.status).toBe(400);
    expect(body.error).toBe(error);
    expect(body.error_description).toMatch(description);
  });

  it.each([
    [{ ...nativeClient, grant_types: ['client_credentials'] }, 'invalid_client_metadata', /grant_types/],
    [{ ...nativeClient, grant_types: ['refresh_token'] }, 'invalid_client_metadata', /authorization_code/],
    [{ ...nativeClient, response_types: ['token'] }, 'invalid_client_metadata', /response_types/],
    [
      { ...nativeClient, token_endpoint_auth_method: 'private_key_jwt' },
      'invalid_client_metadata',
      /token_endpoint_auth_method/,
    ],
    [{ ...nativeClient, client_name: 42 }, 'invalid_client_metadata', /client_name/],
    [{ ...nativeClient, logo_uri: 'javascript:alert(1)' }, 'invalid_client_metadata', /logo_uri/],
    [{ ...nativeClient, redirect_uris: 'https://a.example/cb' }, 'invalid_redirect_uri', /redirect_uris/],
    [{ ...nativeClient, redirect_uris: [] }, 'invalid_redirect_uri', /at least one/],
    [{ client_name: 'x' }, 'invalid_redirect_uri', /at least one/],
    [
      { ...nativeClient, redirect_uris: ['https://a.example/cb', 'https://a.example/cb'] },
      'invalid_redirect_uri',
      /duplicates/,
    ],
  ])('rfc7591: bad metadata %# answers 400 %s', async (metadata, error, description) => {
    const { call } = testServer();
    const { res, body } = await register(call, metadata);
    expect(res.status).toBe(400);
    expect(body.error).toBe(error);
    expect(body.error_description).toMatch(description);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('rfc7591: registration is audited without secrets', async () => {
    const { call, audit } = testServer();
    const { body } = await register(call, {
      redirect_uris: ['https://app.example/cb'],
      client_name: 'Audited',
    });
    const event = audit.find((e) => e.type === 'client.registered');
    expect(event).toMatchObject({
      clientId: body.client_id,
      clientName: 'Audited',
      redirectHosts: ['app.example'],
    });
    expect(JSON.stringify(audit)).not.toContain(body.client_secret as string);
    expect(JSON.stringify(audit)).not.toContain(body.registration_access_token as string);
  });
});

describe('redirect URI rules', () => {
  const cases: Array<[string, RegExp]> = [
    ['http://localhost.evil.com/cb', /http is allowed only/],
    ['http://localhost./cb', /http is allowed only/],
    ['http://127.0.0.1.nip.io/cb', /http is allowed only/],
    ['http://example.com/cb', /http is allowed only/],
    ['https://good.com@evil.com/cb', /userinfo/],
    ['https://user:pass@good.com/cb', /userinfo/],
    ['http://localhost@evil.com/cb', /userinfo/],
    ['https://good.com/cb#frag', /fragment/],
    ['https://good.com/cb#', /fragment/],
    ['javascript:alert(1)', /not allowed/],
    ['JavaScript:alert(1)', /not allowed/],
    ['data:text/html,<script>alert(1)</script>', /not allowed/],
    ['file:///etc/passwd', /not allowed/],
    ['vbscript:msgbox', /not allowed/],
    ['/relative/cb', /not an absolute URI/],
    ['https://good.com/c b', /whitespace/],
    ['https:\\\\evil.com/cb', /backslash/],
    ['', /empty/],
    [`https://good.com/${'a'.repeat(2000)}`, /too long/],
  ];
  it.each(cases)('rejects %s with invalid_redirect_uri', async (uri, description) => {
    const { call } = testServer();
    const { res, body } = await register(call, { ...nativeClient, redirect_uris: [uri] });
    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_redirect_uri');
    expect(body.error_description).toMatch(description);
  });

  it.each([
    'https://good.com/cb',
    'https://GOOD.com/CB',
    'https://good.com./cb',
    'http://localhost:8080/cb',
    'http://LOCALHOST/cb',
    'http://127.0.0.1/cb',
    'http://[::1]:9000/cb',
    'com.example.app:/oauth2redirect',
    'cursor://anysphere.cursor-retrieval/oauth/callback',
  ])('accepts %s and stores it exactly as sent', async (uri) => {
    const { call } = testServer();
    const { res, body } = await register(call, { ...nativeClient, redirect_uris: [uri] });
    expect(res.status).toBe(201);
    expect(body.redirect_uris).toEqual([uri]);
  });

  it.each([
    [['http://127.0.0.1:7777/cb'], true],
    [['http://localhost/cb', 'http://[::1]:9000/cb'], true],
    [['https://LOCALHOST/cb', 'https://localhost./cb', 'https://app.localhost/cb'], true],
    [['https://localhost.evil.com/cb'], false],
    [['https://good.com/cb'], false],
    [['com.example.app:/oauth2redirect'], false],
    [['http://localhost/cb', 'com.example.app:/oauth2redirect'], false],
    [['http://127.0.0.1/cb', 'https://good.com/cb'], false],
    [[], false],
  ])('localhost-only redirect URIs (consent page warning): %j → %s', (uris, local) => {
    expect(onlyLocalRedirects(uris)).toBe(local);
  });

  it('redirect allow-list: exact strings and patterns only', async () => {
    const { call } = testServer({
      registration: {
        redirectUriAllowList: [
          'https://claude.ai/api/mcp/auth_callback',
          /^http:\/\/127\.0\.0\.1:\d+\/callback$/,
        ],
      },
    });
    expect(
      (await register(call, { ...nativeClient, redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] }))
        .res.status,
    ).toBe(201);
    expect((await register(call, nativeClient)).res.status).toBe(201);
    const prefix = await register(call, {
      ...nativeClient,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback/x'],
    });
    expect(prefix.res.status).toBe(400);
    expect(prefix.body).toMatchObject({
      error: 'invalid_redirect_uri',
      error_description: expect.stringMatching(/allow-list/),
    });
  });
});

describe('registration hygiene', () => {
  it('rfc7591: initial access token required when configured; wrong and missing tokens answer 401', async () => {
    const iat = 'initial-access-token-0123456789';
    const { call } = testServer({ registration: { initialAccessToken: iat } });
    const missing = await register(call, nativeClient);
    expect(missing.res.status).toBe(401);
    expect(missing.body.error).toBe('invalid_token');
    expect(missing.res.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await register(call, nativeClient, {
      authorization: 'Bearer initial-access-token-xxxxxxxxxx',
    });
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const ok = await register(call, nativeClient, { authorization: `Bearer ${iat}` });
    expect(ok.res.status).toBe(201);
  });

  it('registration disabled: /register is absent from routes and metadata', async () => {
    const { call, server } = testServer({ registration: { enabled: false } });
    expect((await call('/register', json(nativeClient))).status).toBe(404);
    expect(server.metadata().registration_endpoint).toBeUndefined();
  });

  it('registration disabled (CIMD preferred, MCP 2026-07-28): metadata keeps client_id_metadata_document_supported, /register and /register/{id} answer a JSON 404', async () => {
    const { call } = testServer({ registration: { enabled: false } });
    const meta = (await (await call('/.well-known/oauth-authorization-server')).json()) as Body;
    expect(meta).not.toHaveProperty('registration_endpoint');
    expect(meta.client_id_metadata_document_supported).toBe(true);
    for (const res of [await call('/register', json(nativeClient)), await call('/register/some-client')]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ error: expect.any(String) as string });
    }
  });

  it('rate limit: the 21st registration from one source in a minute gets 429 with Retry-After', async () => {
    const { call, clock } = testServer();
    clock.set(1_800_000_000_000); // on a window boundary
    for (let i = 0; i < 20; i++) expect((await call('/register', json(nativeClient))).status).toBe(201);
    const limited = await call('/register', json(nativeClient));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
    // Another source is unaffected; the same source recovers in the next window.
    expect((await call('/register', json(nativeClient), '198.51.100.1')).status).toBe(201);
    clock.advance(60_000);
    expect((await call('/register', json(nativeClient))).status).toBe(201);
  });

  it('rate limit: IPv6 sources share a bucket per /64, X-Forwarded-For only with trustProxyHops', async () => {
    const { call } = testServer({ rateLimits: { register: { limit: 1, windowMs: 60_000 } } });
    expect((await call('/register', json(nativeClient), '2001:db8:1:2::1')).status).toBe(201);
    expect((await call('/register', json(nativeClient), '2001:db8:1:2::ffff')).status).toBe(429);
    const spoof = json(nativeClient, { 'x-forwarded-for': '192.0.2.99' });
    expect((await call('/register', spoof, '203.0.113.50')).status).toBe(201);
    expect(
      (await call('/register', json(nativeClient, { 'x-forwarded-for': '192.0.2.100' }), '203.0.113.50'))
        .status,
    ).toBe(429);

    const proxied = testServer({
      trustProxyHops: 1,
      rateLimits: { register: { limit: 1, windowMs: 60_000 } },
    });
    expect(
      (await proxied.call('/register', json(nativeClient, { 'x-forwarded-for': '192.0.2.1' }), '10.0.0.1'))
        .status,
    ).toBe(201);
    expect(
      (await proxied.call('/register', json(nativeClient, { 'x-forwarded-for': '192.0.2.2' }), '10.0.0.1'))
        .status,
    ).toBe(201);
    expect(
      (await proxied.call('/register', json(nativeClient, { 'x-forwarded-for': '192.0.2.1' }), '10.0.0.1'))
        .status,
    ).toBe(429);
  });

  it("rate limit: server.rateLimit counts an embedding app's page like an endpoint (429 with Retry-After, audited)", async () => {
    const { server, audit } = testServer({ rateLimits: { pages: { limit: 2, windowMs: 60_000 } } });
    const page = () => new Request('https://as.example.com/account');
    await server.rateLimit('pages', page(), { remoteAddress: '203.0.113.9' });
    await server.rateLimit('pages', page(), { remoteAddress: '203.0.113.9' });
    const err = await server
      .rateLimit('pages', page(), { remoteAddress: '203.0.113.9' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'rate_limited', status: 429, headers: { 'retry-after': '60' } });
    expect(audit.at(-1)).toMatchObject({ type: 'rate_limited', bucket: 'pages', source: '203.0.113.9' });
    // Another source has its own count.
    await server.rateLimit('pages', page(), { remoteAddress: '198.51.100.1' });
  });

  it('cap: beyond registration.maxClients live clients /register is 503 temporarily_unavailable and stores nothing; deleted and expired ones do not count', async () => {
    const { server, clock, audit } = testServer({
      registration: { maxClients: 2 },
      rateLimits: { register: false },
      clientReapIntervalMs: 0,
    });
    // A real HTTP server on 127.0.0.1 in front of the authorization server.
    const srv = await listen((req) => {
      const u = new URL(req.url);
      return server.fetch(new Request(`https://as.example.com${u.pathname}`, req), {
        remoteAddress: req.headers.get('x-test-source') ?? '127.0.0.1',
      });
    });
    try {
      const reg = (source: string) =>
        fetch(`${srv.url}/register`, json(nativeClient, { 'x-test-source': source }));
      const first = (await (await reg('192.0.2.1')).json()) as Body;
      expect((await reg('192.0.2.2')).status).toBe(201);
      const full = await reg('192.0.2.3');
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toBe('3600');
      expect(full.headers.get('cache-control')).toBe('no-store');
      expect(await full.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(audit.at(-1)).toMatchObject({
        type: 'client.registration_rejected',
        error: 'temporarily_unavailable',
        source: '192.0.2.3',
      });
      // Nothing of the refused registration stays: two index members, two client records.
      const ids = await server.clients.list();
      expect(ids).toHaveLength(2);
      expect(ids).toContain(first.client_id);
      await expect(server.clients.register(nativeClient)).rejects.toMatchObject({
        error: 'temporarily_unavailable',
        status: 503,
      });
      expect(await server.clients.list()).toEqual(ids);

      // A deleted client (RFC 7592) frees its place.
      const del = await fetch(`${srv.url}/register/${first.client_id as string}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${first.registration_access_token as string}` },
      });
      expect(del.status).toBe(204);
      expect((await reg('192.0.2.3')).status).toBe(201);
      expect((await reg('192.0.2.4')).status).toBe(503);

      // Clients never used expire after unusedClientTtlMs (1 day): at the cap they are reaped, not counted.
      clock.advance(24 * 60 * 60 * 1000 + 1);
      expect((await reg('192.0.2.4')).status).toBe(201);
      expect(await server.clients.list()).toHaveLength(1);
      expect(audit.filter((e) => e.type === 'client.deleted' && e.reason === 'expired')).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });

  it('cap: a registration under registration.maxClients counts the client index without reading it', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const store = new IndexReadCounter({ clock });
    const { call } = testServer({
      clock,
      store,
      registration: { maxClients: 5 },
      rateLimits: { register: false },
      clientReapIntervalMs: 0,
    });
    for (let i = 0; i < 3; i++) expect((await register(call, nativeClient)).res.status).toBe(201);
    expect(store.indexReads).toBe(0);
  });

  it('client TTL: a client never used is reaped after unusedClientTtlMs; deletion hooks run', async () => {
    // reap() by hand here; the timer is tested in reaper.test.ts.
    const { server, clock, audit } = testServer({ clientReapIntervalMs: 0 });
    const deleted: string[] = [];
    server.context.clients.onDeleted((id, reason) => void deleted.push(`${id}:${reason}`));
    const unused = await server.clients.register(nativeClient);
    const used = await server.clients.register(nativeClient);
    clock.advance(60 * 60 * 1000);
    await server.context.clients.touch(used.client.client_id);
    clock.advance(24 * 60 * 60 * 1000);
    expect(await server.clients.get(unused.client.client_id)).toBeUndefined();
    expect(await server.clients.get(used.client.client_id)).toBeDefined();
    expect(await server.clients.reap()).toBe(1);
    expect(deleted).toEqual([`${unused.client.client_id}:expired`]);
    expect(audit.some((e) => e.type === 'client.deleted' && e.reason === 'expired')).toBe(true);
    expect(await server.clients.list()).toEqual([used.client.client_id]);
  });

  it('client TTL: use renews the lifetime; idle past clientTtlMs expires', async () => {
    const day = 24 * 60 * 60 * 1000;
    const { server, clock } = testServer({ registration: { clientTtlMs: 10 * day } });
    const reg = await server.clients.register(nativeClient);
    const id = reg.client.client_id;
    await server.context.clients.touch(id);
    for (let i = 0; i < 4; i++) {
      clock.advance(6 * day);
      await server.context.clients.touch(id);
    }
    expect(await server.clients.get(id)).toBeDefined();
    clock.advance(10 * day);
    expect(await server.clients.get(id)).toBeUndefined();
  });
});

describe('static clients', () => {
  it('static clients are known, keep their secret hashed and cannot be managed through RFC 7592', async () => {
    const { server, call } = testServer({
      staticClients: [
        {
          client_id: 'static-app',
          client_secret: 'static-secret-value',
          redirect_uris: ['https://static.example/cb'],
        },
        { client_id: 'static-public', redirect_uris: ['http://localhost:9999/cb'] },
      ],
    });
    const c = await server.clients.get('static-app');
    expect(c).toMatchObject({
      kind: 'static',
      metadata: { token_endpoint_auth_method: 'client_secret_basic' },
    });
    expect(JSON.stringify(c)).not.toContain('static-secret-value');
    expect(await server.context.clients.verifyClientSecret(c!, 'static-secret-value')).toBe(true);
    expect(await server.context.clients.verifyClientSecret(c!, 'wrong')).toBe(false);
    const pub = await server.clients.get('static-public');
    expect(pub?.metadata.token_endpoint_auth_method).toBe('none');
    const res = await call('/register/static-app', { headers: { authorization: 'Bearer anything' } });
    expect(res.status).toBe(401);
    expect(await server.clients.delete('static-app')).toBe(false);
  });

  it('static clients with invalid redirect URIs fail at construction', () => {
    expect(() =>
      testServer({ staticClients: [{ client_id: 'bad', redirect_uris: ['http://evil.example/cb'] }] }),
    ).toThrow(/http is allowed only/);
  });
});

describe('grant policy hook', () => {
  it('isGrantAllowed needs the grant registered and the policy to agree', async () => {
    const { server } = testServer({
      registration: {
        grantPolicy: (client, grant) =>
          !(grant === 'refresh_token' && client.metadata.client_name === 'NoRefresh'),
      },
    });
    const a = await server.clients.register(nativeClient);
    const b = await server.clients.register({ ...nativeClient, client_name: 'NoRefresh' });
    const c = await server.clients.register({ ...nativeClient, grant_types: ['authorization_code'] });
    const reg = server.context.clients;
    expect(reg.isGrantAllowed(a.client, 'refresh_token')).toBe(true);
    expect(reg.isGrantAllowed(b.client, 'refresh_token')).toBe(false);
    expect(reg.isGrantAllowed(c.client, 'refresh_token')).toBe(false);
    expect(() => reg.assertGrantAllowed(c.client, 'refresh_token')).toThrow(
      expect.objectContaining({ error: 'unauthorized_client', status: 400 }),
    );
  });
});

/** A memory store counting the reads of the whole dynamic-client index. */
class IndexReadCounter extends MemoryStore {
  indexReads = 0;
  override members(key: string) {
    if (key === 'clients:index') this.indexReads++;
    return super.members(key);
  }
}
