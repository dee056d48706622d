import { createHash } from 'node:crypto';
import { chromiumLaunchOptions, listen, type Listening } from '@mcp-gateway/testkit';
import { chromium, type Browser as Chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { localUsers, startAs, type TestAs, TEST_PASSWORD_COST } from './helpers.js';

const VERIFIER = 'first-party-verifier-'.padEnd(43, 'x');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

let browser: Chromium;
let app: Listening;
let t: TestAs;

beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions());
  app = await listen(
    (req) =>
      new Response(`app got ${new URL(req.url).search}`, { headers: { 'content-type': 'text/plain' } }),
  );
  t = await startAs({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    staticClients: [
      {
        client_id: 'own-page',
        client_name: 'Own Page',
        redirect_uris: [`${app.url}/cb`],
        token_endpoint_auth_method: 'none',
        skipConsent: true,
      },
      {
        client_id: 'partner',
        client_name: 'Partner App',
        redirect_uris: [`${app.url}/cb`],
        token_endpoint_auth_method: 'none',
      },
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await app?.close();
});

/** Signs in as alice for `clientId`; resolves once the browser is on the consent page or back at the app. */
async function signIn(page: Page, clientId: string): Promise<URL> {
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: `${app.url}/cb`,
    response_type: 'code',
    state: 'fp-state',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  }).toString();
  await page.goto(u.href);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery staple');
  await Promise.all([page.waitForURL(/\/consent\?flow=|\/cb\?/), page.click('#sign-in')]);
  return new URL(page.url());
}

describe('skipConsent: only a first-party static client skips the consent page', () => {
  it('a static client with skipConsent gets its code right after sign-in; the consent is recorded as a grant', async () => {
    const context = await browser.newContext();
    const landed = await signIn(await context.newPage(), 'own-page');
    await context.close();
    expect(landed.pathname).toBe('/cb');
    expect(landed.searchParams.get('state')).toBe('fp-state');
    const token = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: landed.searchParams.get('code')!,
        redirect_uri: `${app.url}/cb`,
        client_id: 'own-page',
        code_verifier: VERIFIER,
        resource: t.resource,
      }),
    });
    expect(token.status).toBe(200);
    const grants = await t.as.grants.list('local:alice');
    expect(grants.map((g) => g.clientId)).toContain('own-page');
    expect(t.audit.some((r) => r.type === 'consent.given' && r.clientId === 'own-page')).toBe(true);
  });

  it('a static client without skipConsent still shows the consent page', async () => {
    const context = await browser.newContext();
    const landed = await signIn(await context.newPage(), 'partner');
    await context.close();
    expect(landed.pathname).toBe('/consent');
  });

  it('a dynamically registered client cannot skip consent, whatever it puts in its registration', async () => {
    const reg = await fetch(`${t.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Sneaky App',
        redirect_uris: [`${app.url}/cb`],
        token_endpoint_auth_method: 'none',
        skipConsent: true,
        skip_consent: true,
        kind: 'static',
      }),
    });
    expect(reg.status).toBe(201);
    const { client_id } = (await reg.json()) as { client_id: string };
    const stored = await t.as.clients.get(client_id);
    expect(stored?.kind).toBe('dynamic');
    expect(stored?.skipConsent).toBeUndefined();
    const context = await browser.newContext();
    const page = await context.newPage();
    const landed = await signIn(page, client_id);
    expect(landed.pathname).toBe('/consent');
    expect(await page.textContent('#client-name')).toBe('Sneaky App');
    await context.close();
  });
});
