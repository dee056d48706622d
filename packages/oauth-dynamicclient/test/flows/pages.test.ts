import { chromiumLaunchOptions, listen, type Listening } from '@mcp-gateway/testkit';
import {
  chromium,
  type Browser as Chromium,
  type BrowserContext,
  type Page,
  type Response as PwResponse,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { html } from '../../src/pages/html.js';
import { localUsers, startAs, type TestAs, TEST_PASSWORD_COST } from './helpers.js';

/** The accessible name of the consent page's localhost warning. */
const LOCAL_WARNING = 'Only continue if you started this sign-in';

const XSS_NAME = `<img src=x onerror="window.__xss='img'"><script>window.__xss='script'</script>"'&`;

let browser: Chromium;
let t: TestAs;
let clientApp: Listening;
let attacker: Listening;
let attackerPage = '';
let clientId = '';

beforeAll(async () => {
  browser = await chromium.launch(chromiumLaunchOptions());
  clientApp = await listen(
    (req) =>
      new Response(`client got ${new URL(req.url).search}`, { headers: { 'content-type': 'text/plain' } }),
  );
  // Another site: a different loopback address (127.0.0.2), so Chromium treats it as cross-site.
  attacker = await listen(() => new Response(attackerPage, { headers: { 'content-type': 'text/html' } }), {
    host: '127.0.0.2',
  });
  t = await startAs({
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
    staticClients: [
      {
        client_id: 'static-local',
        client_name: 'Admin Tool',
        redirect_uris: [`${clientApp.url}/cb`],
        token_endpoint_auth_method: 'none',
      },
    ],
  });
  const reg = await t.as.clients.register({
    redirect_uris: [`${clientApp.url}/cb`],
    client_name: XSS_NAME,
    token_endpoint_auth_method: 'none',
  });
  clientId = reg.client.client_id;
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await clientApp?.close();
  await attacker?.close();
});

function authorizeUrl(client = clientId, redirectUri = `${clientApp.url}/cb`): string {
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: client,
    redirect_uri: redirectUri,
    response_type: 'code',
    state: 'browser-state',
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  }).toString();
  return u.href;
}

/** Signs in through the local login form and returns the page showing the consent form. */
async function toConsent(page: Page, client = clientId, redirectUri?: string): Promise<void> {
  // Consent is remembered: withdraw earlier grants so the page shows again.
  for (const g of await t.as.grants.list('local:alice')) await t.as.grants.revoke(g.id);
  await page.goto(authorizeUrl(client, redirectUri));
  await page.fill('#username', 'alice');
  await page.fill('#password', 'correct horse battery staple');
  await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
  await page.waitForSelector('#approve');
}

/** The hidden fields of the page's form, as the real page holds them. */
function formFields(page: Page): Promise<Record<string, string>> {
  return page.$$eval('form input[type=hidden]', (els) =>
    Object.fromEntries(els.map((e) => [(e as HTMLInputElement).name, (e as HTMLInputElement).value])),
  );
}

/** The attacker's site (another origin) auto-submits a form with `fields` to `action`; resolves with our answer. */
async function postFromAttacker(
  context: BrowserContext,
  action: string,
  fields: Record<string, string>,
): Promise<PwResponse> {
  attackerPage = html`<!doctype html>
    <form id="f" method="post" action="${action}">
      ${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
    </form>
    <script>
      document.getElementById('f').submit();
    </script>`.value;
  const evil = await context.newPage();
  const answer = evil.waitForResponse((r) => r.url() === action);
  await evil.goto(attacker.url);
  return answer;
}

describe('HTML pages in headless Chromium', () => {
  it('xss: a hostile client_name is shown as text and runs nothing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => void dialogs.push(d.message()).valueOf());
    await toConsent(page);
    expect(await page.textContent('#client-name')).toBe(XSS_NAME);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.textContent('#redirect-host')).toBe(
      new URL(clientApp.url).host.replace(/^/, 'http://'),
    );
    expect(await page.textContent('.badge')).toContain('Self-registered');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('consent: bidi controls and zero-width characters in client strings are not rendered, client text is isolated, the redirect host is shown', async () => {
    const invisible = [
      ...['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'],
      ...['\u200E', '\u200F', '\u061C', '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF'],
    ];
    const reg = await t.as.clients.register({
      redirect_uris: [`${clientApp.url}/cb`],
      client_name: `Trusted${invisible.join('')}\u202Eppa.live`,
      client_uri: 'https://client.example/',
      policy_uri: 'https://client.example/privacy',
      tos_uri: 'https://client.example/tos',
      token_endpoint_auth_method: 'none',
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await toConsent(page, reg.client.client_id);
    const text = await page.locator('main').innerText();
    const html = await page.content();
    for (const ch of invisible) {
      expect(text.includes(ch), `U+${ch.codePointAt(0)!.toString(16).toUpperCase()} in the text`).toBe(false);
      expect(html.includes(ch), `U+${ch.codePointAt(0)!.toString(16).toUpperCase()} in the markup`).toBe(
        false,
      );
    }
    expect(await page.textContent('#client-name')).toBe('Trustedppa.live');
    expect(await page.locator('#client-name bdi').count()).toBe(1);
    expect(await page.locator('#client-policy bdi').textContent()).toBe('https://client.example/privacy');
    expect(await page.getAttribute('#client-tos', 'rel')).toBe('noopener noreferrer');
    const host = page.locator('#redirect-host');
    expect(await host.isVisible()).toBe(true);
    expect(await host.textContent()).toBe(`http://${new URL(clientApp.url).host}`);
    expect(text.replace(/\s+/g, ' ')).toContain(
      `After you approve, you will be sent to http://${new URL(clientApp.url).host}`,
    );
    await context.close();
  });

  it('consent: approving sends the browser to the client with code, state and iss', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await toConsent(page);
    await Promise.all([page.waitForURL(`${clientApp.url}/cb?**`), page.click('#approve')]);
    const url = new URL(page.url());
    expect(url.searchParams.get('code')).toBeTruthy();
    expect(url.searchParams.get('state')).toBe('browser-state');
    expect(url.searchParams.get('iss')).toBe(t.url);
    await context.close();
  });

  it('framing: the consent page refuses to render inside another site (X-Frame-Options DENY, frame-ancestors none)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const consentResponse = page.waitForResponse((r) => r.url().includes('/consent?flow='));
    await toConsent(page);
    const headers = (await consentResponse).headers();
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    // Now a hostile page frames our login start: Chromium must block the frame.
    attackerPage = `<!doctype html><iframe id="f" src="${t.url}/login?state=abc" width="600" height="400"></iframe>`;
    const framed = await context.newPage();
    await framed.goto(attacker.url, { waitUntil: 'load' });
    const frame = framed.frames().find((f) => f !== framed.mainFrame());
    expect(frame).toBeDefined();
    // Chromium replaces a refused frame with its error page: our form never renders in it.
    // On a loaded machine the frame can still be committing at 'load': poll its URL.
    await expect.poll(() => frame!.url(), { timeout: 10_000 }).toMatch(/^chrome-error:/);
    expect(await frame!.locator('form').count()).toBe(0);
    await context.close();
  });

  it('csrf: a cross-site form post with the real consent fields is refused and the consent stays open', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await toConsent(page);
    const fields = await formFields(page);
    const res = await postFromAttacker(context, `${t.url}/consent`, { ...fields, decision: 'approve' });
    expect(res.status()).toBe(403);
    expect(res.headers()['location']).toBeUndefined();
    // The real user can still decide.
    await Promise.all([page.waitForURL(`${clientApp.url}/cb?**`), page.click('#approve')]);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await context.close();
  });

  it('login csrf: a cross-site form post to /login with the real form fields and password is refused (403) and signs nobody in', async () => {
    for (const g of await t.as.grants.list('local:alice')) await t.as.grants.revoke(g.id);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorizeUrl());
    const fields = await formFields(page);
    expect(Object.keys(fields).sort()).toEqual(['csrf', 'state']);
    const res = await postFromAttacker(context, `${t.url}/login`, {
      ...fields,
      username: 'alice',
      password: 'correct horse battery staple',
    });
    expect(res.status()).toBe(403);
    expect(res.headers()['location']).toBeUndefined();
    expect(await res.text()).toContain('can only be sent from this site');
    // The real user signs in from the real form.
    await page.fill('#username', 'alice');
    await page.fill('#password', 'correct horse battery staple');
    await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
    await page.waitForSelector('#approve');
    await context.close();
  });

  it('restyle hook: custom CSS is served with the page nonce', async () => {
    const s = await startAs({
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
      pages: { css: 'main{border:7px solid rgb(255, 0, 0)}', productName: 'Acme Login' },
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${s.url}/login?state=x`);
      expect(await page.title()).toBe('Sign in · Acme Login');
      expect(await page.$eval('main', (m) => getComputedStyle(m).borderTopColor)).toBe('rgb(255, 0, 0)');
      await context.close();
    } finally {
      await s.close();
    }
  });

  it('open redirect (RFC 9700 §4.11.2): a self-registered client\'s request error stays on our error page; "Return to" gives the client its error', async () => {
    // A redirect URI by name (`localhost`, RFC 8252 §8.3), not a loopback IP literal: the page.
    const named = `http://localhost:${new URL(clientApp.url).port}/cb`;
    const reg = await t.as.clients.register({ redirect_uris: [named], token_endpoint_auth_method: 'none' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const bad = new URL(authorizeUrl(reg.client.client_id));
    bad.searchParams.set('redirect_uri', named);
    bad.searchParams.set('scope', 'no-such-scope');
    const res = await page.goto(bad.href);
    expect(res!.status()).toBe(400);
    expect(res!.headers()['x-frame-options']).toBe('DENY');
    expect(new URL(page.url()).origin).toBe(new URL(t.url).origin);
    expect(await page.textContent('main')).toContain('invalid_scope');
    expect((await page.textContent('#return-to'))!.replace(/\s+/g, ' ').trim()).toBe(
      `Return to ${new URL(named).origin}`,
    );
    await Promise.all([page.waitForURL(`${named}?**`), page.click('#return-to')]);
    const back = new URL(page.url());
    expect(back.searchParams.get('error')).toBe('invalid_scope');
    expect(back.searchParams.get('state')).toBe('browser-state');
    expect(back.searchParams.get('iss')).toBe(t.url);
    await context.close();
  });

  it('localhost redirect risks (MCP 2026-07-28): a self-registered client whose redirect URIs are all on this computer gets a warning, a labelled note, its name as text', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await toConsent(page);
    const note = page.getByRole('note', { name: LOCAL_WARNING });
    expect(await note.isVisible()).toBe(true);
    const text = (await note.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Any program running on your computer could claim to be');
    expect(text).toContain(XSS_NAME);
    expect(await note.locator('bdi').textContent()).toBe(XSS_NAME);
    expect(await note.locator('img, script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    // Before the decision: the warning comes before the buttons in reading order.
    const order = await page.evaluate(() => {
      const warning = document.getElementById('local-redirect-warning')!;
      const approve = document.getElementById('approve')!;
      return warning.compareDocumentPosition(approve) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    expect(order).toBeTruthy();
    await context.close();
  });

  it('localhost redirect risks: no warning for an https redirect URI, for a client with one https redirect among loopback ones, or for a pre-registered client (a loopback-only one has it)', async () => {
    const web = await t.as.clients.register({
      redirect_uris: ['https://client.example/cb'],
      client_name: 'Web App',
      token_endpoint_auth_method: 'none',
    });
    const mixed = await t.as.clients.register({
      redirect_uris: [`${clientApp.url}/cb`, 'https://client.example/cb'],
      application_type: 'native',
      client_name: 'Mixed App',
      token_endpoint_auth_method: 'none',
    });
    // The self-registered loopback-only client first: the same page with the warning.
    const cases: Array<[string, string | undefined, boolean]> = [
      [clientId, undefined, true],
      [web.client.client_id, 'https://client.example/cb', false],
      [mixed.client.client_id, undefined, false],
      ['static-local', undefined, false],
    ];
    for (const [id, redirectUri, warned] of cases) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await toConsent(page, id, redirectUri);
      expect(await page.locator('#local-redirect-warning').count(), id).toBe(warned ? 1 : 0);
      expect((await page.locator('main').innerText()).includes('claim to be'), id).toBe(warned);
      await context.close();
    }
  });

  it('a loopback IP redirect URI (RFC 8252 §7.3) is not an open redirect: the request error takes the browser straight back to the app on this machine, with error, state and iss', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bad = new URL(authorizeUrl());
    bad.searchParams.set('scope', 'no-such-scope');
    const res = await page.goto(bad.href);
    expect(new URL(page.url()).origin).toBe(clientApp.url);
    expect(await res!.text()).toContain('client got ?error=invalid_scope');
    const back = new URL(page.url());
    expect(back.pathname).toBe('/cb');
    expect(back.searchParams.get('error_description')).toBe('scope not allowed: no-such-scope');
    expect(back.searchParams.get('state')).toBe('browser-state');
    expect(back.searchParams.get('iss')).toBe(t.url);
    await context.close();
  });

  it('cimd: the consent page shows the whole metadata URL, wrapped on a narrow screen, never a "verified domain"; the redirect host stays', async () => {
    let docUrl = '';
    const doc = await listen(() =>
      Response.json({
        client_id: docUrl,
        client_name: 'Official Tool',
        redirect_uris: [`${clientApp.url}/cb`],
        token_endpoint_auth_method: 'none',
      }),
    );
    // A document anyone could publish on a shared host: only the full URL says whose it is.
    docUrl = `${doc.url}/attacker/${'a'.repeat(160)}/client.json`;
    const s = await startAs({
      identityProvider: localIdentityProvider({
        users: await localUsers(),
        passwordCost: TEST_PASSWORD_COST,
      }),
      cimd: { allowLoopback: true },
    });
    try {
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      const page = await context.newPage();
      const u = new URL(`${s.url}/authorize`);
      u.search = new URLSearchParams({
        client_id: docUrl,
        redirect_uri: `${clientApp.url}/cb`,
        response_type: 'code',
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'S256',
      }).toString();
      await page.goto(u.href);
      await page.fill('#username', 'alice');
      await page.fill('#password', 'correct horse battery staple');
      await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
      await page.waitForSelector('#approve');
      expect(await page.textContent('#client-metadata-url')).toBe(docUrl);
      expect((await page.textContent('#client-metadata'))!.replace(/\s+/g, ' ').trim()).toBe(
        `Client metadata from ${docUrl}`,
      );
      expect(await page.locator('main').innerText()).not.toMatch(/verified/i);
      expect(await page.textContent('#redirect-host')).toBe(`http://${new URL(clientApp.url).host}`);
      // Its only redirect URI is on this computer: the localhost warning shows (MCP 2026-07-28).
      expect(await page.getByRole('note', { name: LOCAL_WARNING }).isVisible()).toBe(true);
      // Wrapped: nothing sticks out of the card or the screen.
      const fit = await page.evaluate(() => {
        const main = document.querySelector('main')!;
        const badge = document.getElementById('client-metadata')!.getBoundingClientRect();
        const card = main.getBoundingClientRect();
        return {
          inCard: badge.right <= card.right + 0.5,
          noScroll: document.documentElement.scrollWidth <= window.innerWidth,
          lines: Math.round(badge.height / parseFloat(getComputedStyle(main).fontSize)),
        };
      });
      expect(fit.inCard).toBe(true);
      expect(fit.noScroll).toBe(true);
      expect(fit.lines).toBeGreaterThan(1);
      await context.close();
    } finally {
      await s.close();
      await doc.close();
    }
  });
});
