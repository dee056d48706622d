import { createHash } from 'node:crypto';
import { chromiumLaunchOptions, listen, type Listening } from '@mcp-gateway/testkit';
import { chromium, type Browser as Chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { localIdentityProvider } from '../../src/idp/local.js';
import { MemoryStore } from '../../src/store/keyv.js';
import { localUsers, startAs, type TestAs, TEST_PASSWORD_COST } from './helpers.js';

const VERIFIER = 'reload-verifier-'.padEnd(43, 'x');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

let browser: Chromium;
let clientApp: Listening;
const servers: TestAs[] = [];

beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions());
  clientApp = await listen(
    (req) =>
      new Response(`client got ${new URL(req.url).search}`, { headers: { 'content-type': 'text/plain' } }),
  );
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  await clientApp?.close();
});

/** An authorization server with the local provider (user alice) and one public client. */
async function server(clock?: ManualClock): Promise<TestAs & { clientId: string }> {
  const t = await startAs({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    ...(clock ? { clock, store: new MemoryStore({ clock }) } : {}),
  });
  servers.push(t);
  const reg = await t.as.clients.register({
    redirect_uris: [`${clientApp.url}/cb`],
    client_name: 'Reload Test App',
    token_endpoint_auth_method: 'none',
  });
  return { ...t, clientId: reg.client.client_id };
}

function authorizeUrl(t: TestAs, clientId: string): string {
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: `${clientApp.url}/cb`,
    response_type: 'code',
    state: 'reload-state',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  }).toString();
  return u.href;
}

/** Signs in as alice and lands on the consent page; returns its URL. */
async function signInToConsent(page: Page, t: TestAs, clientId: string): Promise<string> {
  await page.goto(authorizeUrl(t, clientId));
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery staple');
  await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
  await page.waitForSelector('#approve');
  return page.url();
}

describe('consent page at GET /consent?flow= (reloadable, bound to the browser)', () => {
  it('reload: the consent page survives a reload, approving sends the client a code that redeems, and a later reload says "already answered"', async () => {
    const t = await server();
    const context = await browser.newContext();
    const page = await context.newPage();
    const consentUrl = await signInToConsent(page, t, t.clientId);
    expect(new URL(consentUrl).pathname).toBe('/consent');

    const reloaded = await page.reload();
    expect(reloaded!.status()).toBe(200);
    expect(await page.textContent('#client-name')).toBe('Reload Test App');
    await page.reload();

    await Promise.all([page.waitForURL(`${clientApp.url}/cb?**`), page.click('#approve')]);
    const back = new URL(page.url());
    expect(back.searchParams.get('state')).toBe('reload-state');
    const code = back.searchParams.get('code')!;
    const token = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${clientApp.url}/cb`,
        client_id: t.clientId,
        code_verifier: VERIFIER,
        resource: t.resource,
      }),
    });
    expect(token.status).toBe(200);
    expect((await token.json()).access_token).toBeTruthy();

    const again = await page.goto(consentUrl);
    expect(again!.status()).toBe(200);
    expect(await page.getAttribute('#notice', 'data-notice')).toBe('already_answered');
    expect(await page.textContent('h1')).toBe('Already answered');
    expect(await page.locator('form').count()).toBe(0);
    await context.close();
  });

  it('reload after deny: the page says the request was already denied, and the client got access_denied', async () => {
    const t = await server();
    const context = await browser.newContext();
    const page = await context.newPage();
    const consentUrl = await signInToConsent(page, t, t.clientId);
    await Promise.all([page.waitForURL(`${clientApp.url}/cb?**`), page.click('#deny')]);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    await page.goto(consentUrl);
    expect(await page.textContent('#notice')).toContain('already denied');
    await context.close();
  });

  it('binding: another browser cannot open the consent URL (403, no form), and the owner can still approve', async () => {
    const t = await server();
    const owner = await browser.newContext();
    const page = await owner.newPage();
    const consentUrl = await signInToConsent(page, t, t.clientId);

    const other = await browser.newContext();
    const stranger = await other.newPage();
    const res = await stranger.goto(consentUrl);
    expect(res!.status()).toBe(403);
    expect(await stranger.locator('form').count()).toBe(0);
    expect(await stranger.textContent('main')).toContain('started in another browser');
    expect(await stranger.textContent('main')).not.toContain('Reload Test App');
    await other.close();

    await page.reload();
    await Promise.all([page.waitForURL(`${clientApp.url}/cb?**`), page.click('#approve')]);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await owner.close();
  });

  it('expiry: once the login lifetime has passed, the consent URL shows the expired page without a form', async () => {
    const clock = new ManualClock();
    const t = await server(clock);
    const context = await browser.newContext();
    const page = await context.newPage();
    const consentUrl = await signInToConsent(page, t, t.clientId);
    clock.advance(10 * 60_000 + 1_000);
    const res = await page.goto(consentUrl);
    expect(res!.status()).toBe(400);
    expect(await page.textContent('main')).toContain('This consent request has expired');
    expect(await page.locator('form').count()).toBe(0);
    await context.close();
  });

  it('a missing or oversized flow id is a clear error page, not a server error', async () => {
    const t = await server();
    for (const q of ['', '?flow=', `?flow=${'a'.repeat(201)}`, '?flow=unknown']) {
      const res = await fetch(`${t.url}/consent${q}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
      await res.body?.cancel();
    }
  });
});
