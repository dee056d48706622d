import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { MemoryStore } from '../../src/store/keyv.js';
import {
  Browser,
  formAction,
  hiddenFields,
  localUsers,
  startAs,
  type TestAs,
  TEST_PASSWORD_COST,
} from './helpers.js';

// The browser-binding cookie (`mcp-as-flow` on this http issuer) lives as long as the flow
// records bound to it: every /authorize (and the sign-in form) sends it again with a fresh
// Max-Age, and /callback renews it when it parks the consent. The tiny browser drops cookies
// on the server's manual clock, as a real one would, so time moves without sleeping.

const REDIRECT = 'http://127.0.0.1:7777/cb';
const COOKIE = 'mcp-as-flow';
const servers: TestAs[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function server(clock: ManualClock): Promise<TestAs & { clientId: string }> {
  const t = await startAs({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    clock,
    store: new MemoryStore({ clock }),
  });
  servers.push(t);
  const reg = await t.as.clients.register({
    redirect_uris: [REDIRECT],
    client_name: 'Binding Test',
    token_endpoint_auth_method: 'none',
  });
  return { ...t, clientId: reg.client.client_id };
}

function authorizeUrl(t: TestAs, clientId: string, state: string): string {
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state,
    code_challenge: 'b'.repeat(43),
    code_challenge_method: 'S256',
  }).toString();
  return u.href;
}

/** The binding cookie's `Set-Cookie` header in `res`, if any. */
const bindingCookie = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));

/** `/authorize` in `browser`, then the sign-in form; returns the form's page. */
async function openSignIn(browser: Browser, t: TestAs, clientId: string, state: string) {
  const start = await browser.get(authorizeUrl(t, clientId, state));
  expect(start.status).toBe(302);
  const login = await browser.get(new URL(start.headers.get('location')!, t.url).href);
  expect(login.status).toBe(200);
  return { start, loginPage: await login.text() };
}

/** Signs in on `loginPage` and follows /callback to the consent page; returns that page. */
async function signIn(browser: Browser, t: TestAs, loginPage: string) {
  const posted = await browser.post(formAction(loginPage), {
    ...hiddenFields(loginPage),
    username: 'alice',
    password: 'correct horse battery staple',
  });
  expect(posted.status).toBe(303);
  const callback = await browser.get(new URL(posted.headers.get('location')!, t.url).href);
  expect(callback.status).toBe(303);
  const consent = await browser.get(new URL(callback.headers.get('location')!, t.url).href);
  expect(consent.status).toBe(200);
  return { callback, consentPage: await consent.text() };
}

describe('browser-binding cookie lifetime', () => {
  it('a second /authorize sends the existing cookie again (same value, fresh Max-Age)', async () => {
    const clock = new ManualClock();
    const t = await server(clock);
    const browser = new Browser(clock);
    const first = await browser.get(authorizeUrl(t, t.clientId, 'one'));
    const set1 = bindingCookie(first);
    expect(set1).toMatch(/; Max-Age=600(;|$)/);
    clock.advance(580_000);
    const second = await browser.get(authorizeUrl(t, t.clientId, 'two'));
    const set2 = bindingCookie(second);
    expect(set2, 'the reused cookie is sent again').toBeDefined();
    expect(set2!.split(';')[0]).toBe(set1!.split(';')[0]);
    expect(set2).toMatch(/; Max-Age=600(;|$)/);
    expect(set2).toMatch(/HttpOnly/);
    expect(set2).toMatch(/SameSite=Lax/);
  });

  it('cookie set at T, second /authorize at T+580 s, Allow at T+610 s: the consent is accepted', async () => {
    const clock = new ManualClock();
    const t = await server(clock);
    const browser = new Browser(clock);
    await browser.get(authorizeUrl(t, t.clientId, 'abandoned'));
    clock.advance(580_000);
    const { loginPage } = await openSignIn(browser, t, t.clientId, 'second');
    const { consentPage } = await signIn(browser, t, loginPage);
    clock.advance(30_000);
    const decided = await browser.post(formAction(consentPage), {
      ...hiddenFields(consentPage),
      decision: 'approve',
    });
    expect(decided.status, await decided.clone().text()).toBe(302);
    const back = new URL(decided.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('second');
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('/callback renews the cookie with the parked consent: signed in at T+590 s, Allow at T+610 s works', async () => {
    const clock = new ManualClock();
    const t = await server(clock);
    const browser = new Browser(clock);
    const { loginPage } = await openSignIn(browser, t, t.clientId, 'slow');
    clock.advance(590_000);
    const { callback, consentPage } = await signIn(browser, t, loginPage);
    expect(bindingCookie(callback)).toMatch(/; Max-Age=600(;|$)/);
    clock.advance(20_000);
    const decided = await browser.post(formAction(consentPage), {
      ...hiddenFields(consentPage),
      decision: 'approve',
    });
    expect(decided.status, await decided.clone().text()).toBe(302);
    expect(new URL(decided.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});
