import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  createAuthFetch,
  DiscoveryError,
  createOAuthSession,
  discover,
  MemoryTokenStore,
  type Clock,
  type Logger,
  type OAuthSession,
} from '../src/index.js';
import { startAuth2026Server, type Auth2026Server } from './helpers/auth-2026-server.js';
import { startFakeServer, json, challenge401 } from './helpers/fake-as.js';
import { autoBrowser } from './helpers/flow.js';

const servers: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(): Promise<Auth2026Server> {
  const s = await startAuth2026Server();
  servers.push(s);
  return s;
}

/** A logger that keeps warnings, to check the log line a rule asks for. */
function warnings(): Logger & { lines: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const none = () => undefined;
  return { lines, debug: none, info: none, error: none, warn: (msg, fields) => lines.push({ msg, fields }) };
}

/** One MCP request through the client's auth fetch (a `ping`). */
async function ping(s: Auth2026Server, sess: OAuthSession): Promise<number> {
  const res = await createAuthFetch({ session: sess })(s.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await res.body?.cancel();
  return res.status;
}

function session(
  s: Auth2026Server,
  store = new MemoryTokenStore(),
  logger?: Logger,
  clientId?: string,
  clock?: Clock,
): OAuthSession & { browser: ReturnType<typeof autoBrowser> } {
  const browser = autoBrowser();
  const out = createOAuthSession({
    serverUrl: s.mcpUrl,
    store,
    openBrowser: false,
    onAuthorizationUrl: browser.onAuthorizationUrl,
    ...(logger ? { logger } : {}),
    ...(clientId ? { staticClient: { client_id: clientId } } : {}),
    ...(clock ? { clock } : {}),
  });
  return Object.assign(out, { browser });
}

describe('MCP 2026-07-28 authorization, client side', () => {
  describe('SEP-2468 / RFC 9207: iss in the authorization response', () => {
    it('rfc9207 §2.4: advertised and sent equal to the recorded issuer: accepted', async () => {
      const s = await start();
      const sess = session(s);
      const t = await sess.login();
      expect(s.as.a.issued.has(t.access_token)).toBe(true);
    });

    it('rfc9207 §2.4: advertised but absent from the callback: refused, nothing stored', async () => {
      const s = await start();
      s.as.a.iss = { advertised: true, sent: 'none' };
      const store = new MemoryTokenStore();
      const err = await session(s, store)
        .login()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe('iss_missing');
      expect((err as Error).message).toMatch(
        /no iss although .* advertises authorization_response_iss_parameter_supported \(RFC 9207 §2.4/,
      );
      expect(s.as.a.tokenRequests).toHaveLength(0);
      expect(await store.list(s.mcpUrl)).toEqual([]);
    });

    it('rfc9207 §2.4: advertised and different: refused before the code reaches the token endpoint', async () => {
      const s = await start();
      s.as.a.iss = { advertised: true, sent: `${s.as.b.issuer}` };
      const err = await session(s)
        .login()
        .catch((e: unknown) => e);
      expect((err as AuthError).code).toBe('iss_mismatch');
      expect((err as Error).message).toMatch(/RFC 9207/);
      expect(s.as.a.tokenRequests).toHaveLength(0);
    });

    it('mcp 2026-07-28: not advertised but present: still compared (a different iss is refused)', async () => {
      const s = await start();
      s.as.a.iss = { advertised: false, sent: s.as.b.issuer };
      const err = await session(s)
        .login()
        .catch((e: unknown) => e);
      expect((err as AuthError).code).toBe('iss_mismatch');
      expect(s.as.a.tokenRequests).toHaveLength(0);
    });

    it('rfc3986 §6.2.1: simple string comparison, no trailing-slash normalization', async () => {
      const s = await start();
      s.as.a.iss = { advertised: false, sent: `${s.as.a.issuer}/` };
      const err = await session(s)
        .login()
        .catch((e: unknown) => e);
      expect((err as AuthError).code).toBe('iss_mismatch');
    });

    it('rfc9207 §2.4: not advertised and absent: proceeds', async () => {
      const s = await start();
      s.as.a.iss = { advertised: false, sent: 'none' };
      const t = await session(s).login();
      expect(s.as.a.issued.has(t.access_token)).toBe(true);
    });
  });

  describe('SEP-837: application_type at dynamic registration', () => {
    it('client-registration: a loopback-redirect client registers with application_type "native"', async () => {
      const s = await start();
      s.as.a.oidcRedirectRules = true;
      await session(s).login();
      expect(s.as.a.registrations).toHaveLength(1);
      expect(s.as.a.registrations[0]).toMatchObject({
        application_type: 'native',
        redirect_uris: [expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)],
      });
    });
  });

  describe('SEP-2352: credentials bound to the issuer, authorization-server migration', () => {
    it('client-registration: when the resource metadata names a new AS between runs, the old client and tokens are discarded, not sent there, and sign-in registers at the new AS', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      expect(await ping(s, session(s, store))).toBe(200);
      const [old] = await store.list(s.mcpUrl);
      expect(old).toMatchObject({
        issuer: s.as.a.issuer,
        client: { client_id: expect.stringMatching(/^client-a-/) },
      });

      s.current = 'b';
      const log = warnings();
      const second = session(s, store, log);
      expect(await ping(s, second)).toBe(200);

      expect(s.as.b.registrations).toHaveLength(1);
      const toB = [...s.as.b.authorizeRequests, ...s.as.b.tokenRequests].map((q) => q.toString()).join('&');
      expect(toB).not.toContain(old!.client!.client_id);
      expect(toB).not.toContain(old!.tokens!.refresh_token!);
      expect(new URL(second.browser.urls[0]!).origin + new URL(second.browser.urls[0]!).pathname).toBe(
        `${s.as.b.issuer}/authorize`,
      );
      const records = await store.list(s.mcpUrl);
      expect(records.map((r) => r.issuer)).toEqual([s.as.b.issuer]);
      expect(records[0]!.client!.client_id).toMatch(/^client-b-/);
      expect(log.lines).toContainEqual({
        msg: 'the resource moved to another authorization server; discarding the credentials of the old one',
        fields: { server: s.mcpUrl, from: s.as.a.issuer, to: s.as.b.issuer },
      });
    });

    it('client-registration: a running session that gets a 401 after the move discovers again and signs in at the new AS', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      const sess = session(s, store);
      expect(await ping(s, sess)).toBe(200);
      s.current = 'b';
      expect(await ping(s, sess)).toBe(200);
      expect(s.as.a.tokenRequests).toHaveLength(1);
      expect(s.as.a.registrations).toHaveLength(1);
      expect(s.as.b.registrations).toHaveLength(1);
      expect((await store.list(s.mcpUrl)).map((r) => r.issuer)).toEqual([s.as.b.issuer]);
    });

    it('client-registration: a 401 without resource_metadata (plain invalid_token) reads the well-known metadata again and signs in at the new AS', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      const sess = session(s, store);
      expect(await ping(s, sess)).toBe(200);
      s.current = 'b';
      s.plainChallenge = true;
      expect(await ping(s, sess)).toBe(200);
      expect(s.hits).toContain('GET /.well-known/oauth-authorization-server/as-b');
      expect(s.as.b.registrations).toHaveLength(1);
      expect(s.as.b.tokenRequests.map((q) => q.get('grant_type'))).toEqual(['authorization_code']);
      // No refresh at the old AS.
      expect(s.as.a.tokenRequests.map((q) => q.get('grant_type'))).toEqual(['authorization_code']);
      expect(new URL(sess.browser.urls[1]!).pathname).toBe('/as-b/authorize');
      expect((await store.list(s.mcpUrl)).map((r) => r.issuer)).toEqual([s.as.b.issuer]);
    });

    it('client-registration: between runs, a plain invalid_token 401 moves a new session to the new AS instead of refreshing at the old one', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      expect(await ping(s, session(s, store))).toBe(200);
      s.current = 'b';
      s.plainChallenge = true;
      const second = session(s, store);
      expect(await ping(s, second)).toBe(200);
      expect(s.as.a.tokenRequests).toHaveLength(1);
      expect(second.browser.urls.map((u) => new URL(u).pathname)).toEqual(['/as-b/authorize']);
      expect((await store.list(s.mcpUrl)).map((r) => r.issuer)).toEqual([s.as.b.issuer]);
    });
  });

  describe('SEP-2352: pre-registered credentials and a moved authorization server', () => {
    it('client-registration: a pre-registered client id stored for the old AS is an error naming the move, not tried at the new AS', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      expect(await ping(s, session(s, store, undefined, 'pre-1'))).toBe(200);
      s.current = 'b';
      const second = session(s, store, undefined, 'pre-1');
      const err = await ping(s, second).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe('authorization_server_changed');
      expect((err as Error).message).toContain(`now names authorization server ${s.as.b.issuer}`);
      expect(second.browser.urls).toEqual([]);
      expect(s.as.b.tokenRequests).toHaveLength(0);
    });

    it('client-registration: with the id of a client registered at the new AS, the old record is discarded and sign-in goes there', async () => {
      const s = await start();
      const store = new MemoryTokenStore();
      expect(await ping(s, session(s, store, undefined, 'pre-1'))).toBe(200);
      s.current = 'b';
      expect(await ping(s, session(s, store, undefined, 'pre-b'))).toBe(200);
      const records = await store.list(s.mcpUrl);
      expect(records.map((r) => [r.issuer, r.client?.client_id])).toEqual([[s.as.b.issuer, 'pre-b']]);
    });
  });

  describe('SEP-2207: offline_access', () => {
    it('refresh tokens: offline_access is added to the requested scope when the AS lists it in scopes_supported', async () => {
      const s = await start();
      s.resourceScopes = ['mcp:tools'];
      s.as.a.scopesSupported = ['mcp:tools', 'offline_access'];
      const sess = session(s);
      const t = await sess.login();
      expect(new URL(sess.browser.urls[0]!).searchParams.get('scope')).toBe('mcp:tools offline_access');
      expect(s.as.a.registrations[0]!.scope).toBe('mcp:tools offline_access');
      expect(t.refresh_token).toBeDefined();
    });

    it('refresh tokens: offline_access is not asked for when the AS does not list it', async () => {
      const s = await start();
      s.resourceScopes = ['mcp:tools'];
      s.as.a.scopesSupported = ['mcp:tools'];
      const sess = session(s);
      await sess.login();
      expect(new URL(sess.browser.urls[0]!).searchParams.get('scope')).toBe('mcp:tools');
    });
  });

  describe('SEP-2351: RFC 8414 well-known URLs for an issuer with a path', () => {
    it('authorization-server-discovery: path-inserted RFC 8414, path-inserted OIDC, then path-appended OIDC, in that order', async () => {
      const s = await startFakeServer({
        'POST /mcp': challenge401,
        '/prm': (_req, base) => json({ resource: `${base}/mcp`, authorization_servers: [`${base}/tenant1`] }),
        '/tenant1/.well-known/openid-configuration': (_req, base) =>
          json({
            issuer: `${base}/tenant1`,
            authorization_endpoint: `${base}/tenant1/authorize`,
            token_endpoint: `${base}/tenant1/token`,
            code_challenge_methods_supported: ['S256'],
            response_types_supported: ['code'],
          }),
      });
      servers.push(s);
      const d = await discover(new URL(`${s.url.replace(/\/$/, '')}/mcp`), { fetch });
      expect(d.issuer).toBe(`${s.url.replace(/\/$/, '')}/tenant1`);
      expect(s.hits.filter((h) => h.startsWith('GET') && h.includes('well-known'))).toEqual([
        'GET /.well-known/oauth-authorization-server/tenant1',
        'GET /.well-known/openid-configuration/tenant1',
        'GET /tenant1/.well-known/openid-configuration',
      ]);
    });

    it('authorization-server-discovery: the path-inserted RFC 8414 document is used first when it exists', async () => {
      const s = await start();
      await session(s).login();
      expect(s.hits).toContain('GET /.well-known/oauth-authorization-server/as-a');
      expect(s.hits.some((h) => h.includes('openid-configuration'))).toBe(false);
    });
  });

  describe('authorization-server-discovery: the metadata issuer is identical to the issuer identifier', () => {
    it.each([
      ['a trailing slash', (base: string) => `${base}/`],
      [
        'an upper-case scheme and host',
        (base: string) => base.replace('http://127.0.0.1', 'HTTP://127.0.0.1'),
      ],
    ])(
      'issuer identity: metadata naming the issuer with %s is refused (issuer_mismatch), nothing is stored',
      async (_what, spell) => {
        const s = await startFakeServer({
          'POST /mcp': challenge401,
          '/prm': (_req, base) => json({ resource: `${base}/mcp`, authorization_servers: [base] }),
          '/.well-known/oauth-authorization-server': (_req, base) =>
            json({
              issuer: spell(base),
              authorization_endpoint: `${base}/authorize`,
              token_endpoint: `${base}/token`,
              registration_endpoint: `${base}/register`,
              code_challenge_methods_supported: ['S256'],
              response_types_supported: ['code'],
            }),
        });
        servers.push(s);
        const base = s.url.replace(/\/$/, '');
        const store = new MemoryTokenStore();
        const browser = autoBrowser();
        const sess = createOAuthSession({
          serverUrl: `${base}/mcp`,
          store,
          openBrowser: false,
          onAuthorizationUrl: browser.onAuthorizationUrl,
        });
        const err = await sess.login().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DiscoveryError);
        expect((err as DiscoveryError).code).toBe('issuer_mismatch');
        expect((err as Error).message).toContain(`expected ${JSON.stringify(base)}`);
        expect(browser.urls).toEqual([]);
        expect(await store.list(`${base}/mcp`)).toEqual([]);
        expect(s.hits.some((h) => h.includes('/register') || h.includes('/token'))).toBe(false);
      },
    );
  });

  describe('SEP-2350: step-up keeps the scopes already granted', () => {
    it('step-up authorization flow: on 403 insufficient_scope the new request asks for the granted scopes plus the challenge scope', async () => {
      const s = await start();
      s.resourceScopes = ['mcp:tools'];
      const sess = session(s);
      await sess.login();
      s.requiredScope = 'mcp:admin';
      expect(await ping(s, sess)).toBe(200);
      expect(sess.browser.urls).toHaveLength(2);
      expect(new URL(sess.browser.urls[1]!).searchParams.get('scope')).toBe('mcp:tools mcp:admin');
    });

    it('step-up authorization flow: one step-up per request, then a permanent failure (no loop)', async () => {
      const s = await start();
      s.resourceScopes = ['mcp:tools'];
      const sess = session(s);
      await sess.login();
      s.requiredScope = 'mcp:admin';
      s.neverEnoughScope = true;
      const err = await ping(s, sess).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe('insufficient_scope');
      expect((err as Error).message).toMatch(/still refuses the token after step-up/);
      expect(sess.browser.urls).toHaveLength(2);
      // The request, and its one retry after the step-up.
      expect(s.bearers).toHaveLength(2);
    });
  });

  describe('SEP-2350 / SEP-2207: re-authorization keeps the requested scopes, and refresh tokens', () => {
    /** A clock the test moves, and the scope of each announced `/authorize` as a sorted list. */
    const clock = () => {
      let now = Date.now();
      return { now: () => now, advance: (ms: number) => void (now += ms) };
    };
    const scopes = (url: string) => new URL(url).searchParams.get('scope')?.split(' ').sort();
    const TWO_HOURS = 2 * 3600_000;

    it.each([
      { offline: false, expected: ['a', 'b'] },
      { offline: true, expected: ['a', 'b', 'offline_access'] },
    ])(
      'scope selection: challenge `a`, 403 step-up to `b`, then an expired token without a refresh token: the next /authorize asks for `a b` (offline_access listed: $offline)',
      async ({ offline, expected }) => {
        const s = await start();
        s.challengeScope = 'a';
        s.as.a.scopesSupported = ['a', 'b', ...(offline ? ['offline_access'] : [])];
        s.as.a.refreshTokens = 'never';
        const c = clock();
        const sess = session(s, new MemoryTokenStore(), undefined, undefined, c);
        expect(await ping(s, sess)).toBe(200);
        expect(scopes(sess.browser.urls[0]!)).toEqual(offline ? ['a', 'offline_access'] : ['a']);
        s.requiredScope = 'b';
        expect(await ping(s, sess)).toBe(200);
        expect(scopes(sess.browser.urls[1]!)).toEqual(expected);
        c.advance(TWO_HOURS);
        // The 401 names `a` only: the new sign-in still asks for `b`, so no second step-up follows.
        expect(await ping(s, sess)).toBe(200);
        expect(sess.browser.urls.map(scopes)).toEqual([
          offline ? ['a', 'offline_access'] : ['a'],
          expected,
          expected,
        ]);
        expect((await sess.credentials())?.requested_scope).toBe('a b');
      },
    );

    it('refresh tokens: a step-up asks for offline_access too, so a server that issues refresh tokens only for it keeps issuing them', async () => {
      const s = await start();
      s.challengeScope = 'a';
      s.as.a.scopesSupported = ['a', 'b', 'offline_access'];
      s.as.a.refreshTokens = 'offline-access';
      const c = clock();
      const sess = session(s, new MemoryTokenStore(), undefined, undefined, c);
      expect(await ping(s, sess)).toBe(200);
      s.requiredScope = 'b';
      expect(await ping(s, sess)).toBe(200);
      expect(scopes(sess.browser.urls[1]!)).toEqual(['a', 'b', 'offline_access']);
      const stepped = (await sess.credentials())?.tokens;
      expect(stepped?.refresh_token).toBeDefined();
      c.advance(TWO_HOURS);
      expect(await ping(s, sess)).toBe(200);
      expect(sess.browser.urls).toHaveLength(2);
      expect(s.as.a.tokenRequests.at(-1)?.get('refresh_token')).toBe(stepped?.refresh_token);
    });

    it('refresh tokens: a token response without a refresh token (a sign-in, or a refresh) keeps the stored one', async () => {
      const s = await start();
      s.challengeScope = 'a';
      // Registered for `a b` (the resource's scopes): the step-up signs in with the same client.
      s.resourceScopes = ['a', 'b'];
      s.as.a.refreshTokens = 'first-grant';
      s.as.a.rotateRefresh = false;
      const c = clock();
      const sess = session(s, new MemoryTokenStore(), undefined, undefined, c);
      expect(await ping(s, sess)).toBe(200);
      const first = (await sess.credentials())?.tokens?.refresh_token;
      expect(first).toBeDefined();
      s.requiredScope = 'b';
      expect(await ping(s, sess)).toBe(200);
      expect(sess.browser.urls).toHaveLength(2);
      expect(s.as.a.registrations).toHaveLength(1);
      expect((await sess.credentials())?.tokens?.refresh_token).toBe(first);
      for (let i = 0; i < 2; i++) {
        c.advance(TWO_HOURS);
        expect(await ping(s, sess)).toBe(200);
        expect((await sess.credentials())?.tokens?.refresh_token).toBe(first);
      }
      expect(sess.browser.urls).toHaveLength(2);
      const refreshes = s.as.a.tokenRequests.filter((f) => f.get('grant_type') === 'refresh_token');
      expect(refreshes.map((f) => f.get('refresh_token'))).toEqual([first, first]);
    });

    it('scope selection: an explicit login scope is sent as given and replaces the scopes asked for earlier', async () => {
      const s = await start();
      s.challengeScope = 'a';
      s.as.a.scopesSupported = ['a', 'b', 'offline_access'];
      const sess = session(s);
      expect(await ping(s, sess)).toBe(200);
      s.requiredScope = 'b';
      expect(await ping(s, sess)).toBe(200);
      await sess.login({ scope: 'c' });
      expect(new URL(sess.browser.urls[2]!).searchParams.get('scope')).toBe('c');
      expect((await sess.credentials())?.requested_scope).toBe('c');
    });
  });
});
