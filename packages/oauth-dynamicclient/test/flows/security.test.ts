import { base64url, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { listenNode, startGitHubStub, startOidcStub, type GitHubStub } from '@mcp-gateway/testkit';
import { forwardAuthNodeListener } from '../../src/endpoints/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import {
  Browser,
  completeLogin,
  errorPageLink,
  hiddenFields,
  localUsers,
  loopbackError,
  startAs,
  startGitHubAs,
  startStack,
  type TestAs,
  type TestStack,
  TEST_PASSWORD_COST,
} from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
/** A self-registered web client's redirect URI (not loopback: its errors stay on our page). */
const WEB = 'https://app.example/cb';
const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(body),
});
const basic = (id: string, secret: string) =>
  `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

async function s256(verifier: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
}

interface Registered {
  clientId: string;
  secret?: string;
}

async function register(t: TestAs, meta: Record<string, unknown> = {}): Promise<Registered> {
  const reg = await t.as.clients.register({
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    client_name: 'Security test client',
    ...meta,
  });
  return { clientId: reg.client.client_id, ...(reg.clientSecret ? { secret: reg.clientSecret } : {}) };
}

function authorizeUrl(t: TestAs, clientId: string, extra: Record<string, string | undefined> = {}): string {
  const url = new URL(`${t.url}/authorize`);
  const params: Record<string, string | undefined> = {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'st-1',
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Logs in and consents; returns the code and the verifier. */
async function getCode(t: TestAs, c: Registered, browser = new Browser()) {
  const verifier = 'v'.repeat(20) + crypto.randomUUID().replace(/-/g, '');
  const cb = await completeLogin(
    browser,
    authorizeUrl(t, c.clientId, { code_challenge: await s256(verifier) }),
    REDIRECT,
  );
  return { code: cb.searchParams.get('code')!, verifier, callback: cb };
}

async function token(t: TestAs, c: Registered, body: Record<string, string>) {
  const res = await fetch(
    `${t.url}/token`,
    form(body, c.secret ? { authorization: basic(c.clientId, c.secret) } : {}),
  );
  return { status: res.status, body: (await res.json()) as Record<string, string>, headers: res.headers };
}

async function tokensFor(t: TestAs, c: Registered) {
  const { code, verifier } = await getCode(t, c);
  const r = await token(t, c, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
  });
  expect(r.status).toBe(200);
  return r.body as { access_token: string; refresh_token: string; scope: string };
}

let t: TestStack;
let client: Registered;
let webClient: Registered;
beforeAll(async () => {
  t = await startStack({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    staticClients: [
      { client_id: 'static-app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
    ],
  });
  client = await register(t);
  webClient = await register(t, { redirect_uris: [WEB] });
});
afterAll(() => t.close());

describe('authorize: errors before the redirect URI is established render a page; after, they go back to the client', () => {
  it('unknown client_id: HTML error page, no redirect', async () => {
    const res = await fetch(authorizeUrl(t, 'no-such-client', { code_challenge: 'x'.repeat(43) }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('invalid_client');
  });

  it('redirect mismatch (other path, other host, prefix tricks): page, never a redirect', async () => {
    for (const bad of [
      'http://127.0.0.1:7777/cb/evil',
      'https://evil.example/cb',
      'http://127.0.0.1:7777/cbx',
      'http://localhost.evil.com:7777/cb',
    ]) {
      const res = await fetch(
        authorizeUrl(t, client.clientId, { redirect_uri: bad, code_challenge: 'x'.repeat(43) }),
        {
          redirect: 'manual',
        },
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('invalid_redirect_uri');
    }
  });

  it('rfc8252: a loopback redirect may use another port', async () => {
    const res = await fetch(
      authorizeUrl(t, client.clientId, {
        redirect_uri: 'http://127.0.0.1:5555/cb',
        code_challenge: 'x'.repeat(43),
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/\/login\?state=/);
  });

  /**
   * A self-registered web client's request error: the AS's error page (no redirect, RFC 9700
   * §4.11.2), whose "Return to" link carries the error, state and iss to the redirect URI.
   */
  const refused = async (extra: Record<string, string | undefined>) => {
    const res = await fetch(authorizeUrl(t, webClient.clientId, { redirect_uri: WEB, ...extra }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await res.text();
    const link = /<a id="return-to" href="([^"]+)"[^>]*>Return to <bdi>([^<]+)<\/bdi><\/a/.exec(page);
    expect(link, 'a "Return to" link').not.toBeNull();
    expect(link![2]).toBe('app.example');
    const loc = new URL(link![1]!.replace(/&amp;/g, '&'));
    expect(loc.origin + loc.pathname).toBe(WEB);
    expect(loc.searchParams.get('state')).toBe('st-1');
    expect(loc.searchParams.get('iss')).toBe(t.url);
    expect(page).toContain(`<code>${loc.searchParams.get('error')}</code>`);
    return loc.searchParams;
  };

  it('pkce: missing code_challenge → invalid_request (error page, its link back carries state and iss)', async () => {
    expect((await refused({})).get('error')).toBe('invalid_request');
  });

  it('pkce: plain downgrade (method plain or absent) → invalid_request', async () => {
    expect(
      (await refused({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' })).get('error'),
    ).toBe('invalid_request');
    expect(
      (await refused({ code_challenge: 'x'.repeat(43), code_challenge_method: undefined })).get('error'),
    ).toBe('invalid_request');
  });

  it('rfc9700 §4.11.2: a self-registered client naming any redirect URI cannot use /authorize as an open redirector; a static client keeps the automatic redirect', async () => {
    const evil = await register(t, {
      redirect_uris: ['https://evil.example/'],
      token_endpoint_auth_method: 'none',
    });
    const res = await fetch(`${t.url}/authorize?client_id=${evil.clientId}&response_type=x`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const page = await res.text();
    expect(page).toContain('unsupported_response_type');
    const href = /<a id="return-to" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
    expect(href.startsWith('https://evil.example/?error=unsupported_response_type&')).toBe(true);
    expect(page).toContain('Return to <bdi>evil.example</bdi>');
    // A static client (configured by the operator, trusted) still gets its errors by an automatic redirect.
    const trusted = await fetch(
      authorizeUrl(t, 'static-app', { code_challenge: 'x'.repeat(43), scope: 'admin' }),
      {
        redirect: 'manual',
      },
    );
    expect(trusted.status).toBe(302);
    const loc = new URL(trusted.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe(REDIRECT);
    expect(loc.searchParams.get('error')).toBe('invalid_scope');
    expect(loc.searchParams.get('state')).toBe('st-1');
    expect(loc.searchParams.get('iss')).toBe(t.url);
  });

  it('rfc9700 §4.11.2 + rfc8252 §7.3: a self-registered client whose redirect URI is a loopback IP literal (127.0.0.1 or [::1], any port) gets its request errors by an automatic redirect with error, error_description, state and iss; localhost keeps the page', async () => {
    const native = await register(t, {
      redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
      token_endpoint_auth_method: 'none',
    });
    const request = (redirectUri: string) =>
      fetch(
        authorizeUrl(t, native.clientId, {
          redirect_uri: redirectUri,
          code_challenge: 'x'.repeat(43),
          scope: 'admin',
        }),
        { redirect: 'manual' },
      );
    for (const redirectUri of ['http://127.0.0.1:50123/callback', 'http://[::1]:50124/callback']) {
      const back = loopbackError(await request(redirectUri), redirectUri);
      expect(Object.fromEntries(back)).toEqual({
        error: 'invalid_scope',
        error_description: 'scope not allowed: admin',
        state: 'st-1',
        iss: t.url,
      });
    }
    // `localhost` is a name the user's device resolves (RFC 8252 §8.3): the page, as for a web client.
    const named = await request('http://localhost:50125/callback');
    expect(named.status).toBe(400);
    expect(named.headers.get('location')).toBeNull();
    expect(await named.text()).toContain('Return to <bdi>http://localhost:50125</bdi>');
  });

  it('the link back is escaped: a hostile state stays inside the href', async () => {
    const state = `"><script>alert(1)</script><a href="x`;
    const res = await fetch(authorizeUrl(t, webClient.clientId, { redirect_uri: WEB, state }), {
      redirect: 'manual',
    });
    const page = await res.text();
    expect(page).not.toContain('<script');
    const href = /<a id="return-to" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
    expect(new URL(href).searchParams.get('state')).toBe(state);
  });

  it('rfc8707: unknown resource → invalid_target; scope outside the resource → invalid_scope; response_type token → unsupported_response_type', async () => {
    expect(
      (await refused({ code_challenge: 'x'.repeat(43), resource: 'https://other.example/mcp' })).get('error'),
    ).toBe('invalid_target');
    expect((await refused({ code_challenge: 'x'.repeat(43), scope: 'admin' })).get('error')).toBe(
      'invalid_scope',
    );
    expect((await refused({ code_challenge: 'x'.repeat(43), response_type: 'token' })).get('error')).toBe(
      'unsupported_response_type',
    );
  });

  it('rfc8707: the resource is matched in canonical form (case, trailing slash)', async () => {
    const u = new URL(t.resource);
    const variant = `${u.protocol.toUpperCase()}//${u.host.toUpperCase()}${u.pathname}/`;
    const res = await fetch(
      authorizeUrl(t, client.clientId, { code_challenge: 'x'.repeat(43), resource: variant }),
      { redirect: 'manual' },
    );
    expect(res.headers.get('location')).toMatch(/\/login\?state=/);
  });
});

describe('token endpoint', () => {
  it('pkce: a wrong code_verifier is invalid_grant', async () => {
    const { code } = await getCode(t, client);
    const r = await token(t, client, {
      grant_type: 'authorization_code',
      code,
      code_verifier: 'w'.repeat(43),
      redirect_uri: REDIRECT,
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('pkce: a missing code_verifier is invalid_request', async () => {
    const { code } = await getCode(t, client);
    const r = await token(t, client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(r.body.error).toBe('invalid_request');
  });

  it('code replay: invalid_grant and every token issued from the code is revoked', async () => {
    const { code, verifier } = await getCode(t, client);
    const body = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT };
    const first = await token(t, client, body);
    expect(first.status).toBe(200);
    expect(
      (await fetch(t.resource, { headers: { authorization: `Bearer ${first.body.access_token}` } })).status,
    ).toBe(200);
    const replay = await token(t, client, body);
    expect(replay.body.error).toBe('invalid_grant');
    const after = await fetch(t.resource, {
      headers: { authorization: `Bearer ${first.body.access_token}` },
    });
    expect(after.status).toBe(401);
    const refresh = await token(t, client, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token!,
    });
    expect(refresh.body.error).toBe('invalid_grant');
    expect(t.audit.some((a) => a.type === 'code.replayed')).toBe(true);
  });

  it('cross-client use of a code: invalid_grant', async () => {
    const other = await register(t);
    const { code, verifier } = await getCode(t, client);
    const r = await token(t, other, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });
    expect(r.body.error).toBe('invalid_grant');
  });

  it('redirect_uri at /token must repeat the authorization request', async () => {
    const { code, verifier } = await getCode(t, client);
    const r = await token(t, client, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:7777/other',
    });
    expect(r.body.error).toBe('invalid_grant');
  });

  it('codes expire after 60 s', async () => {
    const clock = new ManualClock();
    const s = await startAs({
      clock,
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    try {
      const c = await register(s);
      const { code, verifier } = await getCode(s, c);
      clock.advance(61_000);
      const r = await token(s, c, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      });
      expect(r.body.error).toBe('invalid_grant');
    } finally {
      await s.close();
    }
  });

  it('unknown client, wrong secret and wrong method: 401 invalid_client', async () => {
    const unknown = await fetch(
      `${t.url}/token`,
      form({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic('nope', 'nope') }),
    );
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: string }).error).toBe('invalid_client');
    const wrong = await fetch(
      `${t.url}/token`,
      form(
        { grant_type: 'refresh_token', refresh_token: 'x' },
        { authorization: basic(client.clientId, 'wrong') },
      ),
    );
    expect(wrong.status).toBe(401);
    // Registered for client_secret_basic: the same secret in the body is refused.
    const post = await fetch(
      `${t.url}/token`,
      form({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: client.clientId,
        client_secret: client.secret!,
      }),
    );
    expect(post.status).toBe(401);
    const none = await fetch(
      `${t.url}/token`,
      form({ grant_type: 'refresh_token', refresh_token: 'x', client_id: client.clientId }),
    );
    expect(none.status).toBe(401);
  });

  it('refresh: scope may narrow, never widen; the audience is kept', async () => {
    const c = await register(t, { scope: 'mcp:read' });
    const tokens = await tokensFor(t, c);
    expect(tokens.scope).toBe('mcp:read');
    const wider = await token(t, c, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      scope: 'mcp:read mcp:write',
    });
    expect(wider.body.error).toBe('invalid_scope');
    // The refused request did not burn the token.
    const ok = await token(t, c, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(ok.status).toBe(200);
    const payload = JSON.parse(
      new TextDecoder().decode(base64url.decode(ok.body.access_token!.split('.')[1]!)),
    ) as { aud: string };
    expect(payload.aud).toBe(t.resource);
    const otherTarget = await token(t, c, {
      grant_type: 'refresh_token',
      refresh_token: ok.body.refresh_token!,
      resource: 'https://x.example/',
    });
    expect(otherTarget.body.error).toBe('invalid_target');
  });

  it('refresh reuse after the grace window revokes the family; inside it, the same successor', async () => {
    const clock = new ManualClock();
    const s = await startStack({
      clock,
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    try {
      const c = await register(s);
      const first = await tokensFor(s, c);
      const a = await token(s, c, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
      clock.advance(10_000);
      const retry = await token(s, c, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(retry.body.refresh_token).toBe(a.body.refresh_token);
      clock.advance(25_000);
      const reuse = await token(s, c, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(reuse.body.error).toBe('invalid_grant');
      const successor = await token(s, c, {
        grant_type: 'refresh_token',
        refresh_token: a.body.refresh_token!,
      });
      expect(successor.body.error).toBe('invalid_grant');
      expect(
        (await fetch(s.resource, { headers: { authorization: `Bearer ${a.body.access_token}` } })).status,
      ).toBe(401);
      expect(s.audit.filter((r) => r.type === 'refresh.reuse_detected')).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('a client without the refresh_token grant gets no refresh token', async () => {
    const c = await register(t, { grant_types: ['authorization_code'] });
    const tokens = await tokensFor(t, c);
    expect(tokens.refresh_token).toBeUndefined();
  });
});

describe('resource side: verifyAccessToken, requireBearer and /verify refuse bad tokens', () => {
  let good: string;
  let claims: Record<string, unknown>;
  beforeAll(async () => {
    good = (await tokensFor(t, client)).access_token;
    claims = JSON.parse(new TextDecoder().decode(base64url.decode(good.split('.')[1]!))) as Record<
      string,
      unknown
    >;
  });
  const viaRs = (tok: string) => fetch(t.resource, { headers: { authorization: `Bearer ${tok}` } });

  it('alg none: 401 invalid_token', async () => {
    const none = new UnsecuredJWT(claims).encode();
    const res = await viaRs(none);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    await expect(t.as.verifyAccessToken(none, { resource: t.resource })).rejects.toMatchObject({
      reason: 'algorithm',
    });
  });

  it('HS256 signed with the published public key (HS/RS confusion): 401', async () => {
    const jwk = (await t.as.keys.jwks()).keys[0]!;
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid!, typ: 'at+jwt' })
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expect((await viaRs(hs)).status).toBe(401);
    await expect(t.as.verifyAccessToken(hs, { resource: t.resource })).rejects.toMatchObject({
      reason: 'algorithm',
    });
  });

  it('tampered, foreign-key and wrong-audience tokens: 401', async () => {
    const [h, , sig] = good.split('.');
    const tampered = `${h}.${base64url.encode(JSON.stringify({ ...claims, scope: 'mcp:read mcp:write admin' }))}.${sig}`;
    expect((await viaRs(tampered)).status).toBe(401);
    const rogue = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'rogue', typ: 'at+jwt' })
      .sign(rogue.privateKey);
    expect((await viaRs(forged)).status).toBe(401);
    await expect(
      t.as.verifyAccessToken(good, { resource: 'https://elsewhere.example/mcp' }),
    ).rejects.toMatchObject({
      error: 'invalid_token',
      reason: 'audience',
    });
  });

  it('expired tokens: 401', async () => {
    const clock = new ManualClock();
    const s = await startStack({
      clock,
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    try {
      const tok = (await tokensFor(s, await register(s))).access_token;
      clock.advance(3600_000 + 11_000);
      const res = await fetch(s.resource, { headers: { authorization: `Bearer ${tok}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error_description="token expired"/);
    } finally {
      await s.close();
    }
  });

  it('revoked tokens (RFC 7009 by the owning client only): 401', async () => {
    const tok = (await tokensFor(t, client)).access_token;
    const other = await register(t);
    // Another client cannot revoke it (still 200, per RFC 7009, but no effect).
    const foreign = await fetch(
      `${t.url}/revoke`,
      form({ token: tok }, { authorization: basic(other.clientId, other.secret!) }),
    );
    expect(foreign.status).toBe(200);
    expect((await viaRs(tok)).status).toBe(200);
    const own = await fetch(
      `${t.url}/revoke`,
      form(
        { token: tok, token_type_hint: 'access_token' },
        { authorization: basic(client.clientId, client.secret!) },
      ),
    );
    expect(own.status).toBe(200);
    expect((await viaRs(tok)).status).toBe(401);
  });

  it('missing token: 401 with resource_metadata and scope, no error; query-string tokens are ignored', async () => {
    const res = await fetch(`${t.resource}?access_token=${good}`);
    expect(res.status).toBe(401);
    const h = res.headers.get('www-authenticate')!;
    expect(h).toBe(
      `Bearer scope="mcp:read", resource_metadata="${new URL(t.resource).origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('insufficient scope: 403 with error="insufficient_scope" and the token\'s scopes plus the needed one (sep-2350)', async () => {
    const c = await register(t, { scope: 'mcp:write' });
    const tok = (await tokensFor(t, c)).access_token;
    const res = await viaRs(tok);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer error="insufficient_scope", .*scope="mcp:write mcp:read"/,
    );
  });
});

describe('ForwardAuth /verify', () => {
  const fwd = (tok: string | undefined, uri = '/mcp', extra: Record<string, string> = {}) => {
    const r = new URL(t.resource);
    return fetch(`${t.url}/verify${extra.query ?? ''}`, {
      headers: {
        'x-forwarded-proto': r.protocol.slice(0, -1),
        'x-forwarded-host': r.host,
        'x-forwarded-uri': uri,
        ...(tok ? { authorization: `Bearer ${tok}` } : {}),
      },
    });
  };

  it('200 with X-User-Id, X-User-Name, X-Client-Id, X-Scopes; the token is not echoed', async () => {
    const tok = (await tokensFor(t, client)).access_token;
    const res = await fwd(tok, '/mcp/session?x=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-user-id')).toBe('local:alice');
    expect(res.headers.get('x-user-name')).toBe('alice');
    expect(res.headers.get('x-client-id')).toBe(client.clientId);
    expect(res.headers.get('x-scopes')).toBe('mcp:read mcp:write');
    expect(res.headers.get('x-access-token')).toBeNull();
    const post = await fetch(`${t.url}/verify`, {
      method: 'POST',
      headers: {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': new URL(t.resource).host,
        'x-forwarded-uri': '/mcp',
        authorization: `Bearer ${tok}`,
      },
    });
    expect(post.status).toBe(200);
  });

  it('401 without a token (challenge without error), 401 invalid_token with a bad one', async () => {
    const none = await fwd(undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(
      /^Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"$/,
    );
    const bad = await fwd('garbage.token.here');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('403 insufficient_scope when ?scope= asks for more than the token has', async () => {
    const c = await register(t, { scope: 'mcp:read' });
    const tok = (await tokensFor(t, c)).access_token;
    const res = await fwd(tok, '/mcp', { query: '?scope=mcp:write' });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  it('a URL outside every configured resource: 403 invalid_target; a token for another path does not pass', async () => {
    const tok = (await tokensFor(t, client)).access_token;
    const res = await fwd(tok, '/mcpx');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_target');
  });
  /** One token for every junk-host case (each login counts against the shared server's login limit). */
  let forwardedHostToken: Promise<string> | undefined;
  it.each([
    ['a path', (h: string) => `${h}/mcp`, '/'],
    ['userinfo', (h: string) => `evil.example@${h}`, '/mcp'],
    ['a query', (h: string) => `${h}?x=1`, '/mcp'],
    ['a space', (h: string) => `${h} x`, '/mcp'],
    ['a percent-escape', (h: string) => `${h}%2f`, '/mcp'],
    ['a port out of range', (h: string) => `${h.split(':')[0]}:99999`, '/mcp'],
    ['a backslash', (h: string) => `${h}\\mcp`, '/'],
  ])(
    'forwardauth: an X-Forwarded-Host with %s is refused with 400 invalid_request, even with a good token',
    async (_what, junk, uri) => {
      forwardedHostToken ??= tokensFor(t, client).then((x) => x.access_token);
      const tok = await forwardedHostToken;
      const r = new URL(t.resource);
      const res = await fetch(`${t.url}/verify`, {
        headers: {
          'x-forwarded-proto': 'http',
          'x-forwarded-host': junk(r.host),
          'x-forwarded-uri': uri,
          authorization: `Bearer ${tok}`,
        },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('x-user-id')).toBeNull();
      expect(await res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'X-Forwarded-Host must be a plain host[:port]',
      });
    },
  );

  it('forwardauth: plain host names, IPv4, bracketed IPv6 and ports are accepted as X-Forwarded-Host', async () => {
    const { isPlainHost } = await import('../../src/endpoints/verify.js');
    for (const ok of [
      'mcp.example.com',
      'mcp.example.com:8443',
      'localhost',
      '127.0.0.1:80',
      '[::1]:443',
      'my_svc',
    ])
      expect(isPlainHost(ok), ok).toBe(true);
    for (const bad of [
      '',
      'a..b',
      '-a.com',
      'a.com:',
      'a.com:1:2',
      '[::1',
      'user@a.com',
      'a.com/x',
      'a.com#x',
    ])
      expect(isPlainHost(bad), bad).toBe(false);
  });
});

describe('forwardAuthNodeListener: the same decisions straight from node:http', () => {
  it('200 with identity headers, 401 without token, 403 outside resources, 405 for other methods', async () => {
    const srv = await listenNode(forwardAuthNodeListener(t.as));
    try {
      const tok = (await tokensFor(t, client)).access_token;
      const r = new URL(t.resource);
      const h = { 'x-forwarded-proto': 'http', 'x-forwarded-host': r.host, 'x-forwarded-uri': '/mcp/x' };
      const ok = await fetch(`${srv.url}/verify`, { headers: { ...h, authorization: `Bearer ${tok}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-user-id')).toBe('local:alice');
      expect(ok.headers.get('x-client-id')).toBe(client.clientId);
      const none = await fetch(`${srv.url}/verify?scope=mcp:write`, { headers: h });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe(
        `Bearer scope="mcp:write", resource_metadata="${r.origin}/.well-known/oauth-protected-resource/mcp"`,
      );
      const dotted = await fetch(`${srv.url}/verify`, {
        headers: { ...h, 'x-forwarded-uri': '/mcp/../admin', authorization: `Bearer ${tok}` },
      });
      expect(dotted.status).toBe(403);
      const put = await fetch(`${srv.url}/verify`, { method: 'PUT', headers: h });
      expect(put.status).toBe(405);
    } finally {
      await srv.close();
    }
  });
});

describe('introspection (RFC 7662) and grants', () => {
  it('needs an authenticated confidential client; answers active and inactive', async () => {
    const tokens = await tokensFor(t, client);
    const pub = await register(t, { token_endpoint_auth_method: 'none' });
    const refused = await fetch(
      `${t.url}/introspect`,
      form({ token: tokens.access_token, client_id: pub.clientId }),
    );
    expect(refused.status).toBe(401);
    const active = await fetch(
      `${t.url}/introspect`,
      form({ token: tokens.access_token }, { authorization: basic(client.clientId, client.secret!) }),
    );
    expect(await active.json()).toMatchObject({
      active: true,
      client_id: client.clientId,
      sub: 'local:alice',
      username: 'alice',
      token_type: 'Bearer',
    });
    const rt = await fetch(
      `${t.url}/introspect`,
      form({ token: tokens.refresh_token }, { authorization: basic(client.clientId, client.secret!) }),
    );
    expect(await rt.json()).toMatchObject({ active: true, token_type: 'refresh_token' });
    const junk = await fetch(
      `${t.url}/introspect`,
      form({ token: 'junk' }, { authorization: basic(client.clientId, client.secret!) }),
    );
    expect(await junk.json()).toEqual({ active: false });
  });

  it('per-user grants: list, and revoke withdraws consent and kills the tokens', async () => {
    const c = await register(t);
    const tokens = await tokensFor(t, c);
    const grants = await t.as.grants.list('local:alice');
    const grant = grants.find((g) => g.clientId === c.clientId)!;
    expect(grant).toMatchObject({
      sub: 'local:alice',
      scopes: ['mcp:read', 'mcp:write'],
      resources: [t.resource],
    });
    expect(await t.as.grants.revoke(grant.id)).toBe(true);
    expect(
      (await fetch(t.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status,
    ).toBe(401);
    expect(
      (await token(t, c, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.error,
    ).toBe('invalid_grant');
    expect((await t.as.grants.list('local:alice')).some((g) => g.clientId === c.clientId)).toBe(false);
    expect(await t.as.grants.revoke(grant.id)).toBe(false);
  });

  it('rfc7592: deleting a client revokes its grants and tokens; /token then answers 401 invalid_client', async () => {
    const c = await register(t);
    const tokens = await tokensFor(t, c);
    expect(await t.as.clients.delete(c.clientId)).toBe(true);
    expect(
      (await fetch(t.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status,
    ).toBe(401);
    const r = await token(t, c, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
  });

  it('audit events never carry tokens, codes or secrets', async () => {
    const c = await register(t);
    const { code, verifier } = await getCode(t, c);
    const r = await token(t, c, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });
    const dump = JSON.stringify(t.audit);
    for (const secret of [code, verifier, c.secret!, r.body.access_token!, r.body.refresh_token!])
      expect(dump).not.toContain(secret);
    expect(t.audit.map((a) => a.type)).toEqual(
      expect.arrayContaining(['consent.given', 'token.issued', 'token.refreshed', 'token.revoked']),
    );
  });
});

describe('login: browser binding, provider failures, allow-lists, rate limits', () => {
  let gh: GitHubStub;
  beforeAll(async () => {
    gh = await startGitHubStub({
      users: [
        { login: 'octocat', id: 1, orgs: ['acme'] },
        { login: 'mallory', id: 2 },
      ],
    });
  });
  afterAll(() => gh.close());
  const ghAs = (allow: { allowedUsers?: string[]; allowedOrgs?: string[] }) => startGitHubAs(gh, allow);

  it('the callback in another browser (no binding cookie) is refused with an error page', async () => {
    const s = await ghAs({ allowedUsers: ['*'] });
    try {
      const c = await register(s);
      const start = await new Browser().toUpstream(
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
      );
      const atGithub = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = atGithub.headers.get('location')!;
      const res = await new Browser().get(callback);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('another browser');
    } finally {
      await s.close();
    }
  });

  it('the upstream state is single-use', async () => {
    const s = await ghAs({ allowedUsers: ['*'] });
    try {
      const c = await register(s);
      const b = new Browser();
      const start = await b.toUpstream(authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }));
      const callback = (await fetch(start.headers.get('location')!, { redirect: 'manual' })).headers.get(
        'location',
      )!;
      // Approved before the sign-in: the first callback issues the code.
      const first = await b.get(callback);
      expect(first.status).toBe(302);
      expect(new URL(first.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      expect((await b.get(callback)).status).toBe(400);
    } finally {
      await s.close();
    }
  });

  it('github allow-lists: org member admitted; others get access_denied (a loopback client is redirected at once); an empty list admits nobody', async () => {
    const s = await ghAs({ allowedOrgs: ['acme'] });
    const nobody = await ghAs({});
    try {
      const c = await register(s);
      const cb = await completeLogin(
        new Browser(),
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      expect(cb.searchParams.get('code')).toBeTruthy();
      gh.user = 'mallory';
      const denied = await new Browser().followApproving(
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      expect(loopbackError(denied, REDIRECT).get('error')).toBe('access_denied');
      expect(
        s.audit.some((a) => a.type === 'login.failed' && a.reason === 'not_allowed' && a.who === 'mallory'),
      ).toBe(true);
      gh.user = 'octocat';
      const c2 = await register(nobody);
      const none = await new Browser().followApproving(
        authorizeUrl(nobody, c2.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      expect(loopbackError(none, REDIRECT).get('error')).toBe('access_denied');
    } finally {
      gh.user = 'octocat';
      await s.close();
      await nobody.close();
    }
  });

  it('upstream denial → access_denied; upstream 5xx → temporarily_unavailable; the GitHub token is used once', async () => {
    const s = await ghAs({ allowedUsers: ['*'] });
    try {
      const c = await register(s);
      gh.faults.deny = true;
      const denied = await new Browser().followApproving(
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      expect(loopbackError(denied, REDIRECT).get('error')).toBe('access_denied');
      gh.faults.deny = false;
      gh.faults.status = { token: 502 };
      const down = await new Browser().followApproving(
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      const back = loopbackError(down, REDIRECT);
      expect(back.get('error')).toBe('temporarily_unavailable');
      expect(back.get('state')).toBe('st-1');
      expect(back.get('iss')).toBe(s.url);
      gh.faults.status = {};
      const before = gh.tokens.size;
      await completeLogin(
        new Browser(),
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      const issued = [...gh.tokens.values()].slice(before);
      expect(issued).toHaveLength(1);
      expect(issued[0]!.apiCalls).toBe(1);
    } finally {
      gh.faults = {};
      await s.close();
    }
  });

  it("rfc9700 §4.11.2 at /callback: a sign-in the user did not refuse on our pages (allow-list, upstream failure) sends a self-registered web client's browser nowhere; a static client and a loopback IP redirect URI are redirected", async () => {
    const EVIL = 'https://evil.example/';
    const s = await startGitHubAs(
      gh,
      { allowedOrgs: ['acme'] },
      {
        staticClients: [
          { client_id: 'static-app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
        ],
      },
    );
    try {
      // The attacker registers a client sending the browser to their site, and has the victim
      // open its /authorize link; GitHub approves at once (the victim is signed in there).
      const evil = await register(s, { redirect_uris: [EVIL], token_endpoint_auth_method: 'none' });
      const state = `"><script>alert(1)</script><a href="x`;
      const attack = (clientId: string, redirectUri: string) =>
        new Browser().followApproving(
          authorizeUrl(s, clientId, { code_challenge: 'x'.repeat(43), redirect_uri: redirectUri, state }),
          redirectUri,
        );
      gh.user = 'mallory';
      const refused = await errorPageLink((await attack(evil.clientId, EVIL)).page, 403);
      expect(refused.shown).toBe('evil.example');
      expect(refused.back.origin + refused.back.pathname).toBe(EVIL);
      expect(Object.fromEntries(refused.back.searchParams)).toEqual({
        error: 'access_denied',
        error_description: 'the user is not allowed to use this server',
        state,
        iss: s.url,
      });
      // The provider failing (5xx: unavailable; refusing the code: upstream_error) is no different.
      gh.user = 'octocat';
      gh.faults.status = { token: 502 };
      const down = await errorPageLink((await attack(evil.clientId, EVIL)).page, 503);
      expect(down.back.searchParams.get('error')).toBe('temporarily_unavailable');
      gh.faults.status = { token: 400 };
      const broken = await errorPageLink((await attack(evil.clientId, EVIL)).page, 502);
      expect(broken.back.searchParams.get('error')).toBe('server_error');
      expect(broken.back.searchParams.get('state')).toBe(state);
      // A static client (configured by the operator) gets the same errors by an automatic redirect,
      // and so does a self-registered client whose redirect URI is a loopback IP literal (RFC 8252
      // §7.3: the browser stays on the user's machine), on any port; `localhost` does not count.
      gh.faults.status = {};
      gh.user = 'mallory';
      const native = await register(s, {
        redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
        token_endpoint_auth_method: 'none',
      });
      for (const [clientId, redirectUri] of [
        ['static-app', REDIRECT],
        [native.clientId, 'http://127.0.0.1:50123/callback'],
        [native.clientId, 'http://[::1]:50124/callback'],
      ] as const) {
        const trusted = await attack(clientId, redirectUri);
        expect(trusted.page).toBeUndefined();
        expect(trusted.location!.origin + trusted.location!.pathname).toBe(redirectUri);
        expect(Object.fromEntries(trusted.location!.searchParams)).toEqual({
          error: 'access_denied',
          error_description: 'the user is not allowed to use this server',
          state,
          iss: s.url,
        });
      }
      const named = await errorPageLink(
        (await attack(native.clientId, 'http://localhost:50125/callback')).page,
        403,
      );
      expect(named.shown).toBe('http://localhost:50125');
    } finally {
      gh.user = 'octocat';
      gh.faults = {};
      await s.close();
    }
  });

  it('local login: wrong password → 401 form again and login.failed; /authorize is rate limited (429 + Retry-After)', async () => {
    const s = await startAs({
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
      rateLimits: { authorize: { limit: 3, windowMs: 60_000 } },
    });
    try {
      const c = await register(s);
      const b = new Browser();
      const res = await b.follow(authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }), REDIRECT);
      const page = await res.page!.text();
      const wrong = await b.post(`${s.url}/login`, {
        ...hiddenFields(page),
        username: 'alice',
        password: 'nope',
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain('Wrong user name or password');
      expect(s.audit.some((a) => a.type === 'login.failed' && a.who === 'alice')).toBe(true);
      expect(JSON.stringify(s.audit)).not.toContain('nope');
      for (let i = 0; i < 2; i++) await fetch(authorizeUrl(s, c.clientId), { redirect: 'manual' });
      const limited = await fetch(authorizeUrl(s, c.clientId), { redirect: 'manual' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await s.close();
    }
  });

  it('oidc: a bad ID-token signature, nonce or audience ends in server_error; discovery down → temporarily_unavailable', async () => {
    const op = await startOidcStub();
    const s = await startAs({
      identityProvider: oidcIdentityProvider({
        issuer: op.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
      }),
    });
    try {
      const c = await register(s);
      for (const fault of ['bad_signature', 'wrong_nonce', 'wrong_audience', 'expired'] as const) {
        op.faults.idToken = fault;
        const r = await new Browser().followApproving(
          authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
          REDIRECT,
        );
        expect(loopbackError(r, REDIRECT).get('error')).toBe('server_error');
      }
      delete op.faults.idToken;
      const ok = await completeLogin(
        new Browser(),
        authorizeUrl(s, c.clientId, { code_challenge: 'x'.repeat(43) }),
        REDIRECT,
      );
      expect(ok.searchParams.get('code')).toBeTruthy();
      expect(s.audit.filter((a) => a.type === 'login.failed' && a.reason === 'upstream_error')).toHaveLength(
        4,
      );
    } finally {
      await s.close();
    }
    const down = await startOidcStub({ faults: { status: { discovery: 503 } } });
    const s2 = await startAs({
      identityProvider: oidcIdentityProvider({
        issuer: down.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
      }),
    });
    try {
      const c = await register(s2);
      const res = await new Browser().toUpstream(
        authorizeUrl(s2, c.clientId, { code_challenge: 'x'.repeat(43) }),
      );
      // A loopback client hears at once (RFC 8252 §7.3); a web client would get the 503 page.
      expect(loopbackError(res, REDIRECT).get('error')).toBe('temporarily_unavailable');
    } finally {
      await s2.close();
      await down.close();
      await op.close();
    }
  });
});
