import { createHash, randomBytes } from 'node:crypto';
import { startOidcStub, type OidcStub } from '@mcp-gateway/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { subjectWarnings } from '../src/config/subjects.js';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { ToolPolicy } from '../src/policy/index.js';
import { ISSUER, testGateways } from './helpers.js';
import { Jar } from './helpers/jar.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
const { cleanups, gateway } = testGateways();

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const at = (gw: Gateway, path: string, init: RequestInit = {}) =>
  gw.fetch(new Request(`${ISSUER}${path}`, init));

/** `/authorize` for an app registered with redirect URI `http://127.0.0.1/app-cb`, naming no resource unless `extra` does. */
const authorizeAsApp = (gw: Gateway, clientId: string, extra: Record<string, string> = {}) =>
  at(
    gw,
    `/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1/app-cb',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
      state: 's',
      ...extra,
    })}`,
  );

/** Posts the first form of a page (its hidden fields plus `values`) as the browser holding `jar`. */
async function submitForm(gw: Gateway, jar: Jar, html: string, values: Record<string, string>) {
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  for (const [k, v] of Object.entries(values)) fields.set(k, v);
  const res = await gw.fetch(
    new Request(new URL(action, ISSUER), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header, origin: ISSUER },
      body: fields,
    }),
  );
  jar.take(res);
  return res;
}

/**
 * A real sign-in through the gateway with its configured upstream identity
 * provider: dynamic registration, /authorize, the provider's authorize
 * endpoint over loopback, /callback (the gateway exchanges the code and checks
 * the ID token), consent, /token. Returns the access token.
 */
async function signIn(gw: Gateway, resource: string, scope: string): Promise<string> {
  const reg = await at(gw, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'e' }),
  });
  const { client_id } = (await reg.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URLSearchParams({
    response_type: 'code',
    client_id,
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 's1',
    resource,
    scope,
  });
  const jar = new Jar();
  let res = await at(gw, `/authorize?${authorize}`);
  jar.take(res);
  if (res.status === 303) {
    // A self-registered app and a third-party provider: the consent page comes first.
    const page = await gw.fetch(
      new Request(new URL(res.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    );
    res = await submitForm(gw, jar, await page.text(), { decision: 'approve' });
  }
  const upstream = res.headers.get('location')!;
  expect(upstream.startsWith(ISSUER)).toBe(false); // to the OIDC provider
  const atProvider = await fetch(upstream, { redirect: 'manual' });
  const callback = atProvider.headers.get('location')!;
  expect(callback.startsWith(`${ISSUER}/callback`)).toBe(true);
  res = await gw.fetch(new Request(callback, { headers: { cookie: jar.header } }));
  jar.take(res);
  if (res.status === 303 && new URL(res.headers.get('location')!, ISSUER).pathname === '/consent') {
    res = await gw.fetch(
      new Request(new URL(res.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    );
    jar.take(res);
  }
  if (res.status === 200) res = await submitForm(gw, jar, await res.text(), { decision: 'approve' });
  const code = new URL(res.headers.get('location')!).searchParams.get('code');
  expect(code, 'the sign-in ends with a code').toBeTruthy();
  const tokenRes = await at(gw, '/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT,
      client_id,
      code_verifier: verifier,
      resource,
    }),
  });
  expect(tokenRes.status).toBe(200);
  return ((await tokenRes.json()) as { access_token: string }).access_token;
}

const putService = (gw: Gateway, token: string, name: string, body: unknown) =>
  at(gw, `/admin/services/${name}`, {
    method: 'PUT',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const STDIO = { type: 'stdio', command: process.execPath, args: ['-e', 'process.exit(0)'] };
const listTools = (gw: Gateway, path: string, token: string) =>
  at(gw, path, {
    method: 'POST',
    headers: {
      ...bearer(token),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });

describe('finding 1: admin rights and service users lists go by immutable subject id, never by login', () => {
  let op: OidcStub;
  const idp = () => ({
    type: 'oidc' as const,
    issuer: op.issuer,
    clientId: 'oidc-client',
    clientSecret: 'oidc-secret',
    allowedUsers: ['*'],
  });
  beforeAll(async () => {
    // An outside user who picked the login "admin" at the provider.
    op = await startOidcStub({
      users: [{ sub: 'kc-7', preferredUsername: 'admin', email: 'eve@example.test', name: 'Eve' }],
      user: 'kc-7',
    });
    cleanups.push(() => op.close());
  });

  it('oidc: a user whose preferred_username is "admin" is no admin (no admins key, or admins: [admin]) and gets no service listed by that login', async () => {
    const defaults = await gateway({
      idp: idp(),
      services: { secret: { type: 'fetch', users: ['admin'] } },
    });
    expect(defaults.config.admins).toEqual([]);
    const adminToken = await signIn(defaults, `${ISSUER}/admin`, 'mcp:admin');
    const list = await at(defaults, '/admin/services', { headers: bearer(adminToken) });
    expect([list.status, ((await list.json()) as { error: string }).error]).toEqual([403, 'access_denied']);
    expect((await putService(defaults, adminToken, 'x', STDIO)).status).toBe(403);

    const secretToken = await signIn(defaults, `${ISSUER}/secret/mcp`, 'mcp:secret');
    const denied = await listTools(defaults, '/secret/mcp', secretToken);
    expect([denied.status, ((await denied.json()) as { error: string }).error]).toEqual([
      403,
      'access_denied',
    ]);
    const servers = await at(defaults, '/servers', { headers: bearer(secretToken) });
    expect(((await servers.json()) as { servers: unknown[] }).servers).toEqual([]);

    // An operator who wrote the login: still no admin, and config check says why.
    const byLogin = await gateway({ idp: idp(), admins: ['admin'], services: {} });
    const token = await signIn(byLogin, `${ISSUER}/admin`, 'mcp:admin');
    expect((await at(byLogin, '/admin/services', { headers: bearer(token) })).status).toBe(403);
    expect(subjectWarnings(byLogin.config).join('\n')).toMatch(/admins: "admin" is not a user id/);
  });

  it('oidc: the admin named by oidc:<issuer>#<sub> gets in; the admin API still refuses stdio services unless admin.allowStdioServices: true', async () => {
    const id = `oidc:${op.issuer}#kc-7`;
    const gw = await gateway({ idp: idp(), admins: [id], services: {} });
    expect(subjectWarnings(gw.config)).toEqual([]);
    const token = await signIn(gw, `${ISSUER}/admin`, 'mcp:admin');
    expect((await at(gw, '/admin/services', { headers: bearer(token) })).status).toBe(200);
    const refused = await putService(gw, token, 'x', STDIO);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: 'stdio_services_disabled',
      setting: 'admin.allowStdioServices',
    });
    expect((await at(gw, '/admin/services/x', { headers: bearer(token) })).status).toBe(404);
    expect((await putService(gw, token, 'notes', { type: 'fetch' })).status).toBe(201);
    const badUsers = await putService(gw, token, 'notes', { type: 'fetch', users: ['admin'] });
    expect(badUsers.status).toBe(400);

    const allowing = await gateway({
      idp: idp(),
      admins: [id],
      admin: { allowStdioServices: true },
      services: {},
    });
    const t2 = await signIn(allowing, `${ISSUER}/admin`, 'mcp:admin');
    expect((await putService(allowing, t2, 'x', STDIO)).status).toBe(201);
  });

  it('local: the default admin is local:admin by id; a service restricted to local:alice refuses bob', async () => {
    const gw = await gateway({ services: { secret: { type: 'fetch', users: ['local:alice'] } } });
    expect(gw.config.admins).toEqual(['local:admin']);
    await gw.users.put('admin', 'admin-password');
    await gw.users.put('alice', 'alice-password');
    await gw.users.put('bob', 'bob-password');
    const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
    expect((await at(gw, '/admin/services', { headers: bearer(admin) })).status).toBe(200);
    const bob = (await issueToken(gw, 'bob', 'secret')).access_token;
    expect((await listTools(gw, '/secret/mcp', bob)).status).toBe(403);
    const alice = (await issueToken(gw, 'local:alice', 'secret')).access_token;
    expect((await listTools(gw, '/secret/mcp', alice)).status).toBe(200);
  });

  it('config check: entries that can never match are named (bare logins, GitHub logins, other providers, other issuers)', () => {
    const github = resolveConfig(
      {
        idp: { type: 'github', clientId: 'c', clientSecret: 's', allowedUsers: ['octocat', 'github:1'] },
        admins: ['octocat', 'github:octocat', 'github:583231', 'local:admin'],
        services: { a: { type: 'fetch', users: ['*'] } },
      },
      { env: {} },
    ).config;
    const w = subjectWarnings(github);
    expect(w).toHaveLength(5);
    expect(w.join('\n')).toContain('admins: "octocat" is not a user id');
    expect(w.join('\n')).toContain('admins: "github:octocat": GitHub users are matched by numeric id');
    expect(w.join('\n')).toContain(
      'admins: "local:admin" names a local user, but the identity provider is github',
    );
    expect(w.join('\n')).toContain('services.a.users: "*" is not a wildcard');
    expect(w.join('\n')).toContain('idp.allowedUsers: "octocat"');
    const oidc = resolveConfig(
      {
        idp: { type: 'oidc', issuer: 'https://kc.example.com/realms/a', clientId: 'c' },
        admins: [
          'oidc:kc-1',
          'oidc:https://other.example.com#kc-1',
          'oidc:https://kc.example.com/realms/a#kc-1',
        ],
      },
      { env: {} },
    ).config;
    expect(subjectWarnings(oidc)).toEqual([
      expect.stringContaining('"oidc:kc-1": OIDC ids carry the issuer'),
      expect.stringContaining('names a user of another issuer'),
    ]);
    const noAdmin = resolveConfig(
      { idp: { type: 'github', clientId: 'c', clientSecret: 's', allowedUsers: ['*'] } },
      { env: {} },
    ).config;
    expect(noAdmin.admins).toEqual([]);
    expect(subjectWarnings(noAdmin)).toEqual([]);
    const fromEnv = resolveConfig(
      {},
      {
        env: {
          MCP_GATEWAY__ADMINS: 'local:alice,local:bob',
          MCP_GATEWAY__ADMIN__ALLOW_STDIO_SERVICES: 'true',
        },
      },
    ).config;
    expect([fromEnv.admins, fromEnv.admin.allowStdioServices]).toEqual([['local:alice', 'local:bob'], true]);
    expect(resolveConfig({}, { env: {} }).config.admin.allowStdioServices).toBe(false);
  });
});

describe('finding 6: gateway side', () => {
  it('a malformed percent-escape in the admin path answers 400, not 500', async () => {
    const gw = await gateway({ services: {} });
    await gw.users.put('admin', 'admin-password');
    const admin = (await issueToken(gw, 'admin', 'admin')).access_token;
    const res = await at(gw, '/admin/services/%E0%A4%A', { headers: bearer(admin) });
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, 'invalid_request']);
  });

  it('sign out on /account revokes the session token: the old cookie is refused afterwards', async () => {
    const gw = await gateway({ services: {} });
    await gw.users.put('alice', 'alice-password');
    const { access_token } = await issueToken(gw, 'alice', 'account');
    const cookie = `mcp-account=${access_token}`;
    const page = await at(gw, '/account', { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<code id="user-id">local:alice</code>');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const out = await at(gw, '/account/logout', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }),
    });
    expect(out.status).toBe(303);
    // The same cookie (say, copied before sign-out) no longer opens the page.
    const again = await at(gw, '/account', { headers: { cookie } });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toContain('/authorize');
    await expect(
      gw.authorization.verify(access_token, { resource: `${ISSUER}/account`, scopes: ['account'] }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('account forms: a post without a session is refused unread, a session form is read only up to 4 KiB, a cross-site post is refused even with the right token', async () => {
    const gw = await gateway({ services: {} });
    await gw.users.put('alice', 'alice-password');
    const { access_token } = await issueToken(gw, 'alice', 'account');
    const cookie = `mcp-account=${access_token}`;
    const csrf = /name="csrf" value="([^"]+)"/.exec(
      await (await at(gw, '/account', { headers: { cookie } })).text(),
    )![1]!;
    /** A body sending `bytes` bytes, then never ending (a reader that waits for its end hangs). */
    const endless = (bytes: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          if (bytes > 0) c.enqueue(new TextEncoder().encode(`csrf=${csrf}&grant=${'g'.repeat(bytes)}`));
        },
      });
    const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
      at(gw, path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
        duplex: 'half',
      } as RequestInit);
    expect((await post('/account/revoke', endless(0))).status).toBe(403);
    expect((await post('/account/logout', endless(0))).status).toBe(303);
    expect((await post('/account/revoke', endless(5000), { cookie })).status).toBe(403);
    expect((await post('/account/logout', endless(5000), { cookie })).status).toBe(403);
    const crossSite = await post('/account/logout', new URLSearchParams({ csrf }), {
      cookie,
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect((await at(gw, '/account', { headers: { cookie } })).status, 'still signed in').toBe(200);
    expect(
      (await post('/account/logout', new URLSearchParams({ csrf }), { cookie, origin: ISSUER })).status,
    ).toBe(303);
    expect((await at(gw, '/account', { headers: { cookie } })).status, 'signed out').toBe(303);
  });

  it('restricted services are not advertised: /openapi.json, /servers and scopes_supported show them only to their users; their own RFC 9728 document stays public', async () => {
    const gw = await gateway({
      services: { secret: { type: 'fetch', users: ['local:alice'] }, open: { type: 'fetch' } },
    });
    await gw.users.put('alice', 'alice-password');
    await gw.users.put('bob', 'bob-password');
    const alice = (await issueToken(gw, 'alice', 'open')).access_token;
    const bob = (await issueToken(gw, 'bob', 'open')).access_token;
    const openapiPaths = async (token?: string) =>
      Object.keys(
        (
          (await (await at(gw, '/openapi.json', { headers: token ? bearer(token) : {} })).json()) as {
            paths: Record<string, unknown>;
          }
        ).paths,
      ).filter((p) => p.endsWith('/mcp') && !p.startsWith('/.well-known/'));
    expect(await openapiPaths()).toEqual(['/open/mcp']);
    expect(await openapiPaths(bob)).toEqual(['/open/mcp']);
    expect((await openapiPaths(alice)).sort()).toEqual(['/open/mcp', '/secret/mcp']);
    const servers = async (token?: string) =>
      (
        (await (await at(gw, '/servers', { headers: token ? bearer(token) : {} })).json()) as {
          servers: { name: string }[];
        }
      ).servers.map((s) => s.name);
    expect([await servers(), await servers(bob), (await servers(alice)).sort()]).toEqual([
      ['open'],
      ['open'],
      ['open', 'secret'],
    ]);
    const meta = (await (await at(gw, '/.well-known/oauth-authorization-server')).json()) as {
      scopes_supported: string[];
    };
    expect(meta.scopes_supported).toContain('mcp:open');
    expect(meta.scopes_supported).not.toContain('mcp:secret');
    expect((await at(gw, '/.well-known/oauth-protected-resource/secret/mcp')).status).toBe(200);
    // An authorization request naming no resource falls back to a service everyone may use.
    const app = await gw.authorization.server.clients.register({
      client_name: 'Fallback App',
      redirect_uris: ['http://127.0.0.1/app-cb'],
      token_endpoint_auth_method: 'none',
    });
    const jar = new Jar();
    // A third-party app (the account page's own client is first-party and skips consent).
    const start = await authorizeAsApp(gw, app.client.client_id);
    jar.take(start);
    const loginPage = await gw.fetch(
      new Request(new URL(start.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    );
    const login = await submitForm(gw, jar, await loginPage.text(), {
      username: 'bob',
      password: 'bob-password',
    });
    const callback = await gw.fetch(
      new Request(new URL(login.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    );
    jar.take(callback);
    expect(callback.status, callback.headers.get('location') ?? '').toBe(303);
    const consent = await gw.fetch(
      new Request(new URL(callback.headers.get('location')!, ISSUER), { headers: { cookie: jar.header } }),
    );
    const consentHtml = await consent.text();
    expect(consentHtml).toContain(`${ISSUER}/open/mcp`);
    expect(consentHtml).not.toContain('/secret/mcp');
    // Alice can still get a token for it (the scope is supported, just not listed).
    expect(
      (await listTools(gw, '/secret/mcp', (await issueToken(gw, 'alice', 'secret')).access_token)).status,
    ).toBe(200);
  });
});

describe('the resource of a request naming none', () => {
  it('is never the admin API or the account page: with every service restricted, the request must name a resource (invalid_target)', async () => {
    const gw = await gateway({ services: { secret: { type: 'fetch', users: ['local:alice'] } } });
    const app = await gw.authorization.server.clients.register({
      client_name: 'Some App',
      redirect_uris: ['http://127.0.0.1/app-cb'],
      token_endpoint_auth_method: 'none',
    });
    const authorize = (extra: Record<string, string>) => authorizeAsApp(gw, app.client.client_id, extra);
    const res = await authorize({});
    // The app's redirect URI is a loopback IP literal (RFC 8252 §7.3): the error goes back to it
    // at once (a self-registered web app would get the error page, RFC 9700 §4.11.2).
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('http://127.0.0.1/app-cb');
    expect(back.searchParams.get('error')).toBe('invalid_target');
    // Naming the admin API explicitly still leads to sign-in (an admin's own tools ask for it).
    const named = await authorize({ resource: `${ISSUER}/admin`, scope: 'mcp:admin' });
    expect(named.status).toBe(302);
    expect(new URL(named.headers.get('location')!, ISSUER).searchParams.get('error')).toBeNull();
  });
});

describe('issue 20: groups reach the gateway identity through the access token', () => {
  it('oidc: the groups claim (here `roles`, read from userinfo) becomes Identity.groups; a policy decides by it', async () => {
    const op = await startOidcStub({
      users: [{ sub: 'kc-9', groups: ['mcp-writers'] }],
      user: 'kc-9',
      groupsClaim: 'roles',
      groupsIn: 'userinfo',
    });
    cleanups.push(() => op.close());
    const gw = await gateway({
      idp: {
        type: 'oidc',
        issuer: op.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
        allowedUsers: ['*'],
        groupsClaim: 'roles',
        groupsFromUserinfo: true,
      },
      services: { notes: { type: 'fetch' } },
      policies: {
        services: { notes: { default: 'deny', rules: [{ effect: 'allow', groups: ['mcp-writers'] }] } },
      },
    });
    const token = await signIn(gw, `${ISSUER}/notes/mcp`, 'mcp:notes');
    const identity = await gw.authorization.verify(token, { resource: `${ISSUER}/notes/mcp`, scopes: [] });
    expect(identity).toMatchObject({ sub: `oidc:${op.issuer}#kc-9`, groups: ['mcp-writers'] });
    const policy = ToolPolicy.fromConfig(gw.config.policies);
    expect(policy.checkCall(identity, 'notes', 'fetch', {})).toEqual({ allow: true });
    expect(policy.checkCall({ ...identity, groups: [] }, 'notes', 'fetch', {})).toMatchObject({
      allow: false,
    });
  });
});
