import {
  chromiumLaunchOptions,
  listen,
  startGitHubStub,
  startOidcStub,
  type GitHubStub,
  type Listening,
} from '@mcp-gateway/testkit';
import { chromium, type Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { oidcIdentityProvider } from '../../src/idp/oidc.js';
import { BrowserBinding } from '../../src/idp/browser-binding.js';
import { ConsentMemory, MAX_APPROVALS, type Approval } from '../../src/idp/consent-memory.js';
import { ManualClock } from '../../src/clock.js';
import { MemoryStore } from '../../src/store/keyv.js';
import { cryptoIds } from '../../src/ids.js';
import {
  Browser,
  completeLogin,
  formAction,
  hiddenFields,
  isConsentBeforeLogin,
  localUsers,
  startAs,
  startGitHubAs,
  TEST_PASSWORD_COST,
  type TestAs,
} from './helpers.js';

// MCP security best practices, "Confused Deputy Problem": a proxy signing in at a third-party
// authorization server with one static client id MUST get the user's consent for each
// dynamically registered client before it forwards the browser there, keep a per-user registry
// of approved client ids, and (in cookies) use `__Host-`, Secure, HttpOnly, SameSite=Lax, a
// signature, and a binding to the client id.

const REDIRECT = 'http://127.0.0.1:7777/cb';
/** Every GitHub user is admitted. */
const ALL = { allowedUsers: ['*'] };

let gh: GitHubStub;
beforeAll(async () => {
  gh = await startGitHubStub({ users: [{ login: 'octocat', id: 583231 }] });
});
afterAll(() => gh.close());

async function register(t: TestAs, redirect = REDIRECT, name = 'Deputy Test App'): Promise<string> {
  const reg = await t.as.clients.register({
    redirect_uris: [redirect],
    client_name: name,
    token_endpoint_auth_method: 'none',
  });
  return reg.client.client_id;
}

function authorizeUrl(t: TestAs, clientId: string, extra: Record<string, string> = {}): string {
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'st-deputy',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return u.href;
}

/** GitHub stub authorization requests seen so far. */
const upstreamVisits = () => gh.requests.filter((r) => r.path === '/login/oauth/authorize').length;

/** Opens `/authorize` and reads the consent page it leads to (expects one). */
async function consentPage(b: Browser, url: string): Promise<{ page: string; url: string }> {
  const res = await b.get(url);
  expect(res.status).toBe(303);
  const consentUrl = new URL(res.headers.get('location')!, url).href;
  expect(new URL(consentUrl).pathname).toBe('/consent');
  const page = await b.get(consentUrl);
  expect(page.status).toBe(200);
  return { page: await page.text(), url: consentUrl };
}

/** Approves the consent page before the sign-in that `url` leads to; returns the redirect to the provider. */
async function approveBeforeSignIn(b: Browser, url: string): Promise<Response> {
  const { page } = await consentPage(b, url);
  const res = await b.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
  expect(res.status).toBe(302);
  return res;
}

describe('consent before the third-party sign-in (confused deputy)', () => {
  it('a self-registered client: the consent page comes before GitHub, names the client, scopes and redirect URI; approving goes to GitHub and the code comes back without a second page', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t);
      const b = new Browser();
      const before = upstreamVisits();
      const { page } = await consentPage(b, authorizeUrl(t, clientId, { scope: 'mcp:read' }));
      expect(upstreamVisits(), 'nothing sent to GitHub before the user approved').toBe(before);
      expect(isConsentBeforeLogin(page)).toBe(true);
      expect(page).toContain('Deputy Test App');
      expect(page).toMatch(/sign in with <bdi>GitHub<\/bdi> next/);
      // The scopes asked of GitHub give the app nothing there: the page says so.
      expect(page).toContain('the application gets no access to your account there');
      expect(page).toContain(`<code id="redirect-uri"><bdi>${REDIRECT}</bdi></code>`);
      expect(page).toContain('<li><code>mcp:read</code></li>');
      expect(page).not.toContain('mcp:write');
      expect(page).toContain('<span class="badge unverified">');

      const approved = await b.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
      expect(approved.status).toBe(302);
      expect(approved.headers.get('location')!.startsWith(gh.authorizationEndpoint)).toBe(true);
      const memory = approved.headers.getSetCookie().find((c) => c.startsWith('mcp-as-consent='));
      expect(memory, 'the approval is remembered in a cookie').toBeDefined();
      expect(memory!.split('; ').slice(1).sort()).toEqual(
        ['HttpOnly', 'Max-Age=2592000', 'Path=/', 'SameSite=Lax'].sort(),
      );
      const back = await b.follow(approved.headers.get('location')!, REDIRECT);
      expect(back.page, 'no consent page after the sign-in').toBeUndefined();
      expect(back.location!.searchParams.get('code')).toBeTruthy();
      expect(back.location!.searchParams.get('state')).toBe('st-deputy');
      expect(t.audit.filter((a) => a.type === 'consent.given')).toEqual([
        expect.objectContaining({ clientId, sub: 'github:583231', scopes: ['mcp:read'] }),
      ]);
    } finally {
      await t.close();
    }
  });

  it('the browser remembers the approval of that exact request only: the same one goes straight to GitHub; another client, another redirect URI or more scopes get the page again', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t);
      const b = new Browser();
      expect(
        (await completeLogin(b, authorizeUrl(t, clientId), REDIRECT)).searchParams.get('code'),
      ).toBeTruthy();

      const again = await b.get(authorizeUrl(t, clientId));
      expect(again.status).toBe(302);
      expect(again.headers.get('location')!.startsWith(gh.authorizationEndpoint)).toBe(true);
      const back = await b.follow(again.headers.get('location')!, REDIRECT);
      expect(back.location!.searchParams.get('code')).toBeTruthy();

      const other = await register(t);
      await consentPage(b, authorizeUrl(t, other));
      const narrower = await b.get(authorizeUrl(t, clientId, { scope: 'mcp:read' }));
      expect(narrower.status, 'another scope set is another request').toBe(303);
      const twoUris = (
        await t.as.clients.register({
          redirect_uris: [REDIRECT, 'http://127.0.0.1:7777/other'],
          token_endpoint_auth_method: 'none',
        })
      ).client.client_id;
      await completeLogin(b, authorizeUrl(t, twoUris), REDIRECT);
      await consentPage(b, authorizeUrl(t, twoUris, { redirect_uri: 'http://127.0.0.1:7777/other' }));
      // Another browser remembers nothing.
      await consentPage(new Browser(), authorizeUrl(t, clientId));
    } finally {
      await t.close();
    }
  });

  it('the attack: a victim who approved one client opens a link of an attacker-registered client with its own redirect URI; our consent page stops it before GitHub, and Deny sends that client only access_denied', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const victim = new Browser();
      await completeLogin(victim, authorizeUrl(t, await register(t)), REDIRECT);
      const evil = await register(t, 'https://evil.example/cb', 'Totally Legit');
      const before = upstreamVisits();
      const { page } = await consentPage(
        victim,
        authorizeUrl(t, evil, { redirect_uri: 'https://evil.example/cb' }),
      );
      expect(page).toContain('<code id="redirect-uri"><bdi>https://evil.example/cb</bdi></code>');
      expect(upstreamVisits(), 'GitHub never asked').toBe(before);
      // Deny: the user answered on our page, so the client hears it (RFC 6749 §4.1.2.1).
      const denied = await victim.post(formAction(page), { ...hiddenFields(page), decision: 'deny' });
      expect(denied.status).toBe(302);
      const to = new URL(denied.headers.get('location')!);
      expect(to.origin + to.pathname).toBe('https://evil.example/cb');
      expect(to.searchParams.get('error')).toBe('access_denied');
      expect(to.searchParams.get('code')).toBeNull();
      expect(upstreamVisits()).toBe(before);
      expect(t.audit.filter((a) => a.type === 'consent.given')).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('a forged, altered or foreign consent cookie counts for nothing', async () => {
    const t = await startGitHubAs(gh, ALL);
    const other = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t);
      const b = new Browser();
      await completeLogin(b, authorizeUrl(t, clientId), REDIRECT);
      const good = b.cookies.get('mcp-as-consent')!;
      const [list, mac] = good.split('.');
      for (const forged of [
        `${list}.${'A'.repeat(mac!.length)}`,
        `${'B'.repeat(22)}~${list}.${mac}`,
        list!,
        `${good}x`,
      ]) {
        const fresh = new Browser();
        fresh.cookies.set('mcp-as-consent', forged);
        await consentPage(fresh, authorizeUrl(t, clientId));
      }
      // The same client id and cookie at another server (another key): not remembered there.
      const foreign = new Browser();
      foreign.cookies.set('mcp-as-consent', good);
      const there = await register(other);
      await consentPage(foreign, authorizeUrl(other, there));
    } finally {
      await t.close();
      await other.close();
    }
  });

  it('rememberConsentSeconds 0 asks every time; pre-registered clients and the local provider keep the consent after the sign-in', async () => {
    const never = await startGitHubAs(gh, ALL, { rememberConsentSeconds: 0 });
    try {
      const clientId = await register(never);
      const b = new Browser();
      await completeLogin(b, authorizeUrl(never, clientId), REDIRECT);
      expect(b.cookies.has('mcp-as-consent')).toBe(false);
      await consentPage(b, authorizeUrl(never, clientId));
    } finally {
      await never.close();
    }

    const withStatic = await startGitHubAs(gh, ALL, {
      staticClients: [
        { client_id: 'ops-app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
      ],
    });
    try {
      const b = new Browser();
      const res = await b.get(authorizeUrl(withStatic, 'ops-app'));
      expect(res.status, 'straight to GitHub').toBe(302);
      const afterLogin = await b.follow(res.headers.get('location')!, REDIRECT);
      const page = await afterLogin.page!.text();
      expect(page).toContain('octocat');
      expect(isConsentBeforeLogin(page)).toBe(false);
    } finally {
      await withStatic.close();
    }

    const local = await startAs({
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
    });
    try {
      const b = new Browser();
      const step = await b.follow(authorizeUrl(local, await register(local)), REDIRECT);
      expect(await step.page!.text()).toContain('name="password"');
    } finally {
      await local.close();
    }
  });

  it('a reload of the answered page says it was allowed; a second answer is refused', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t);
      const b = new Browser();
      const { page, url } = await consentPage(b, authorizeUrl(t, clientId));
      const approved = await b.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
      expect(approved.status).toBe(302);
      const reload = await b.get(url);
      expect(await reload.text()).toContain('You already allowed this request.');
      const twice = await b.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
      expect(twice.status).toBe(400);
      expect(twice.headers.get('location')).toBeNull();
      await twice.body?.cancel();
    } finally {
      await t.close();
    }
  });
});

describe('consent before the sign-in: what a remembered approval does not cover', () => {
  it('another user on the same browser, or a user whose grant was withdrawn, still gets the consent page after signing in', async () => {
    const users = [
      { login: 'octocat', id: 583231 },
      { login: 'mallory', id: 666 },
    ];
    const both = await startGitHubStub({ users });
    const s = await startGitHubAs(both, ALL);
    try {
      const clientId = await register(s);
      const b = new Browser();
      await completeLogin(b, authorizeUrl(s, clientId), REDIRECT);
      // Remembered in this browser: straight to GitHub, where mallory signs in now.
      both.user = 'mallory';
      const start = await b.get(authorizeUrl(s, clientId));
      expect(start.status).toBe(302);
      const after = await b.follow(start.headers.get('location')!, REDIRECT);
      expect(after.location, 'no code without consent').toBeUndefined();
      const page = await after.page!.text();
      expect(page).toContain('mallory');
      expect(isConsentBeforeLogin(page)).toBe(false);
      // octocat withdraws the grant: the next sign-in asks again, after GitHub.
      both.user = 'octocat';
      const [grant] = await s.as.grants.list('github:583231');
      expect(await s.as.grants.revoke(grant!.id)).toBe(true);
      const again = await b.get(authorizeUrl(s, clientId));
      expect(again.status).toBe(302);
      const asked = await b.follow(again.headers.get('location')!, REDIRECT);
      expect(asked.location).toBeUndefined();
      expect(await asked.page!.text()).toContain('octocat');
    } finally {
      await s.close();
      await both.close();
    }
  });

  it('a loopback redirect URI on another port (RFC 8252 §7.3, the same registration) is the same approval', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t, 'http://127.0.0.1/cb');
      const b = new Browser();
      const first = await approveBeforeSignIn(
        b,
        authorizeUrl(t, clientId, { redirect_uri: 'http://127.0.0.1:50111/cb' }),
      );
      await first.body?.cancel();
      const next = await b.get(authorizeUrl(t, clientId, { redirect_uri: 'http://127.0.0.1:50222/cb' }));
      expect(next.status).toBe(302);
      expect(next.headers.get('location')!.startsWith(gh.authorizationEndpoint)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('the page before the sign-in refuses a cross-site post, a post from another browser and a client deleted after Allow; nothing reaches the provider or the client', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const clientId = await register(t);
      const b = new Browser();
      const before = upstreamVisits();
      const { page } = await consentPage(b, authorizeUrl(t, clientId));
      const fields = { ...hiddenFields(page), decision: 'approve' };
      const crossSite = await b.post(formAction(page), fields, { 'sec-fetch-site': 'cross-site' });
      expect(crossSite.status).toBe(403);
      expect(crossSite.headers.get('location')).toBeNull();
      await crossSite.body?.cancel();
      const elsewhere = await new Browser().post(formAction(page), fields);
      expect(elsewhere.status).toBe(403);
      await elsewhere.body?.cancel();
      // Still open for the real browser: Allow, then the client is deleted before the callback.
      const approved = await b.post(formAction(page), fields);
      expect(approved.status).toBe(302);
      expect(await t.as.clients.delete(clientId)).toBe(true);
      const back = await b.follow(approved.headers.get('location')!, REDIRECT);
      expect(back.location, 'no code for a deleted client').toBeUndefined();
      expect(back.page!.status).toBe(400);
      expect(await back.page!.text()).toContain('no longer registered');
      expect(upstreamVisits()).toBe(before + 1);
      expect(t.audit.filter((a) => a.type === 'consent.given')).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('oidc: the page names the provider by its issuer host; a custom renderer that knows only the consent kind leaves this page to the built-in one', async () => {
    const op = await startOidcStub();
    const t = await startAs({
      identityProvider: oidcIdentityProvider({
        issuer: op.issuer,
        clientId: 'oidc-client',
        clientSecret: 'oidc-secret',
      }),
      pages: { render: (m) => (m.kind === 'consent' ? `<p>custom ${m.user.login}</p>` : undefined) },
    });
    try {
      const { page } = await consentPage(new Browser(), authorizeUrl(t, await register(t)));
      expect(page).toMatch(new RegExp(`sign in with <bdi>${new URL(op.issuer).host}</bdi> next`));
      expect(page).not.toContain('custom');
    } finally {
      await t.close();
      await op.close();
    }
  });
});

describe('ConsentMemory: the signed cookie itself', () => {
  const approval = (i: number): Approval => ({
    clientId: `client-${i}`,
    redirectUri: REDIRECT,
    resource: 'https://mcp.example/mcp',
    scopes: ['b', 'a'],
  });
  const request = (cookie?: string) =>
    new Request('https://as.example/authorize', cookie ? { headers: { cookie } } : {});

  it('on an https issuer: __Host- name, Secure; scope order does not matter; at most MAX_APPROVALS, the oldest forgotten', async () => {
    const store = new MemoryStore();
    const binding = new BrowserBinding(store, cryptoIds, 'https://as.example', '/');
    const memory = new ConsentMemory(binding, new ManualClock(), 'https://as.example', 3600);
    expect(memory.cookieName).toBe('__Host-mcp-as-consent');
    let cookie = '';
    for (let i = 0; i <= MAX_APPROVALS; i++) {
      const set = (await memory.remember(request(cookie || undefined), approval(i)))!;
      expect(set).toMatch(
        /^__Host-mcp-as-consent=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure$/,
      );
      cookie = set.split(';')[0]!;
      expect(cookie.length).toBeLessThan(1024);
    }
    expect(await memory.has(request(cookie), { ...approval(MAX_APPROVALS), scopes: ['a', 'b'] })).toBe(true);
    expect(await memory.has(request(cookie), approval(1))).toBe(true);
    expect(await memory.has(request(cookie), approval(0)), 'the oldest was forgotten').toBe(false);
    expect(await memory.has(request(cookie), { ...approval(1), scopes: ['a'] })).toBe(false);
    expect(await memory.has(request(), approval(1))).toBe(false);
    expect(await memory.has(request(cookie), { ...approval(1), resource: 'https://mcp.example/other' })).toBe(
      false,
    );
    await store.close();
  });
});

describe('ConsentMemory: what an entry is bound to', () => {
  const a: Approval = {
    clientId: 'c',
    redirectUri: REDIRECT,
    resource: 'https://mcp.example/mcp',
    scopes: ['x'],
  };
  const request = (cookie?: string) =>
    new Request('https://as.example/authorize', cookie ? { headers: { cookie } } : {});
  const memoryOf = (clock: ManualClock, issuer = 'https://as.example', store = new MemoryStore()) =>
    new ConsentMemory(new BrowserBinding(store, cryptoIds, issuer, '/'), clock, issuer, 3600);

  it('each entry lives maxAgeSeconds from its own approval, even when later approvals renew the cookie', async () => {
    const clock = new ManualClock();
    const memory = memoryOf(clock);
    let cookie = (await memory.remember(request(), a))!.split(';')[0]!;
    clock.advance(3000_000);
    cookie = (await memory.remember(request(cookie), { ...a, clientId: 'd' }))!.split(';')[0]!;
    expect(await memory.has(request(cookie), a)).toBe(true);
    clock.advance(601_000);
    expect(await memory.has(request(cookie), a), 'past its hour').toBe(false);
    expect(await memory.has(request(cookie), { ...a, clientId: 'd' })).toBe(true);
  });

  it("another server's cookie (another key) or another issuer's entry for the same request counts for nothing", async () => {
    const clock = new ManualClock();
    const here = memoryOf(clock);
    const cookie = (await here.remember(request(), a))!.split(';')[0]!;
    expect(await here.has(request(cookie), a)).toBe(true);
    expect(await memoryOf(clock).has(request(cookie), a), 'another key').toBe(false);
    const store = new MemoryStore();
    const one = memoryOf(clock, 'https://as.example/one', store);
    const two = memoryOf(clock, 'https://as.example/two', store);
    const shared = (await one.remember(request(), a))!.split(';')[0]!;
    expect(await one.has(request(shared), a)).toBe(true);
    expect(await two.has(request(shared), a), 'same key, another issuer').toBe(false);
  });
});

// The consent page before the sign-in, as a user sees it: a real browser gets a working page.
describe('consent before the sign-in in headless Chromium', () => {
  let chromiumBrowser: Chromium;
  let app: Listening;
  beforeAll(async () => {
    chromiumBrowser = await chromium.launch(chromiumLaunchOptions());
    app = await listen(
      (req) =>
        new Response(`app got ${new URL(req.url).search}`, { headers: { 'content-type': 'text/plain' } }),
    );
  });
  afterAll(async () => {
    await chromiumBrowser?.close();
    await app?.close();
  });

  it('Allow leads through GitHub back to the app with a code; the next sign-in of the same app skips the page', async () => {
    const t = await startGitHubAs(gh, ALL);
    try {
      const redirect = `${app.url}/cb`;
      const clientId = await register(t, redirect, 'Chromium App');
      const url = authorizeUrl(t, clientId, { redirect_uri: redirect });
      const context = await chromiumBrowser.newContext();
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForSelector('#approve');
      expect(await page.textContent('#client-name')).toBe('Chromium App');
      expect(await page.textContent('#sign-in-next')).toMatch(/sign in with GitHub next/);
      expect(await page.textContent('#redirect-uri')).toBe(redirect);
      await Promise.all([page.waitForURL(/\/cb\?/), page.click('#approve')]);
      expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
      await page.goto(url);
      await page.waitForURL(/\/cb\?/);
      expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
      await context.close();
    } finally {
      await t.close();
    }
  });
});
