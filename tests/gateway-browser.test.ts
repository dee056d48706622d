import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromiumLaunchOptions, killAllSpawned, listen, type Listening } from '@mcp-gateway/testkit';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startGateway, type RunningGateway } from './gateway-helpers.js';

const artifacts = path.join(repoRoot, 'test-artifacts');
let browser: Browser;
let gw: RunningGateway;
let cb: Listening;
const codes: URL[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  gw = await startGateway();
  cb = await listen((req) => {
    const u = new URL(req.url);
    if (u.pathname === '/callback') codes.push(u);
    return new Response('<html><body><h1>App received the code</h1></body></html>', {
      headers: { 'content-type': 'text/html' },
    });
  });
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await cb?.close();
  await killAllSpawned();
});

const b64url = (b: Buffer) => b.toString('base64url');

describe('gateway in headless Chromium: login, consent, connected apps', () => {
  it('a registered app gets a code through the login and consent pages; /account signs in without consent, lists it by name and revokes it only after confirmation', async () => {
    const reg = await fetch(`${gw.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Chromium Test App',
        redirect_uris: [`${cb.url}/callback`],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      }),
    });
    expect(reg.status).toBe(201);
    const { client_id } = (await reg.json()) as { client_id: string };
    const verifier = b64url(randomBytes(32));
    const authorize = new URL(`${gw.url}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id,
      redirect_uri: `${cb.url}/callback`,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      state: 'st-1',
      resource: `${gw.url}/demo/mcp`,
      scope: 'mcp:demo',
    }).toString();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorize.href);
    await page.fill('#username', 'admin');
    await page.fill('#password', gw.adminPassword!);
    await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
    expect(await page.textContent('body')).toContain('Chromium Test App');
    await page.screenshot({ path: path.join(artifacts, 'gateway-consent.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${cb.url}/callback?**`), page.click('#approve')]);
    const back = codes.at(-1)!;
    expect(back.searchParams.get('state')).toBe('st-1');
    const tokenRes = await fetch(`${gw.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: `${cb.url}/callback`,
        client_id,
        code_verifier: verifier,
        resource: `${gw.url}/demo/mcp`,
      }),
    });
    expect(tokenRes.status).toBe(200);
    const { access_token, refresh_token } = (await tokenRes.json()) as {
      access_token: string;
      refresh_token: string;
    };
    expect(refresh_token).toBeTruthy();
    const call = () =>
      fetch(`${gw.url}/demo/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'c', version: '1' },
          },
        }),
      });
    const ok = await call();
    expect(ok.status).toBe(200);
    await ok.body?.cancel();

    // Connected apps: the gateway's own page signs the user in without a consent screen (first-party client).
    const visited: string[] = [];
    page.on('framenavigated', (f) => visited.push(f.url()));
    await page.goto(`${gw.url}/account`);
    await page.fill('#username', 'admin');
    await page.fill('#password', gw.adminPassword!);
    await Promise.all([page.waitForURL(`${gw.url}/account`), page.click('#sign-in')]);
    expect(visited.filter((u) => new URL(u).pathname === '/consent')).toEqual([]);
    expect(await page.textContent('h1')).toBe('Connected apps');
    expect(await page.title()).toBe('Connected apps · mcp-gateway');
    // Listed by name, with where it redirects and what it was allowed; the account page itself is not an app.
    const apps = page.locator('#apps li.app');
    expect(await apps.count()).toBe(1);
    const row = apps.filter({ hasText: 'Chromium Test App' });
    expect(await row.locator('.app-name').textContent()).toBe('Chromium Test App');
    expect(await row.locator('.redirect-host').textContent()).toBe(new URL(cb.url).host);
    expect(await row.locator('.scopes').textContent()).toBe('mcp:demo');
    expect(await row.locator('.client-id').textContent()).toBe(client_id);
    expect(await row.locator('time.consented').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.textContent('body')).not.toContain('mcp-gateway account page');
    expect(await page.locator(`[data-client-id="mcp-gateway-account"]`).count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, 'gateway-connected-apps.png'), fullPage: true });

    // Revoke asks first: the first button only shows a confirmation page, the app keeps working; Cancel goes back.
    await Promise.all([page.waitForURL(`${gw.url}/account/revoke`), row.locator('button.revoke').click()]);
    expect(await page.textContent('h1')).toBe('Revoke access?');
    expect(await page.textContent('#confirm-question')).toContain('Chromium Test App');
    await page.screenshot({ path: path.join(artifacts, 'gateway-revoke-confirm.png'), fullPage: true });
    const stillOk = await call();
    expect(stillOk.status).toBe(200);
    await stillOk.body?.cancel();
    await Promise.all([page.waitForURL(`${gw.url}/account`), page.click('#cancel')]);
    expect(await page.locator('#apps li.app').count()).toBe(1);

    // The confirmation keeps the CSRF check: a confirm without the session's token revokes nothing.
    const session0 = (await context.cookies()).find((c) => c.name === 'mcp-account')!;
    const grantId = await row.locator('input[name=grant]').getAttribute('value');
    const forged = await fetch(`${gw.url}/account/revoke`, {
      method: 'POST',
      headers: {
        cookie: `mcp-account=${session0.value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant: grantId!, confirm: 'yes', csrf: 'forged' }),
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);

    await Promise.all([page.waitForURL(`${gw.url}/account/revoke`), row.locator('button.revoke').click()]);
    await Promise.all([page.waitForURL(`${gw.url}/account`), page.click('button.revoke-confirm')]);
    expect(await page.textContent('body')).not.toContain('Chromium Test App');
    expect(await page.locator('#no-apps').count()).toBe(1);
    // Only the confirmation revoked: the app's refresh token is now refused.
    const refreshed = await fetch(`${gw.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id }),
    });
    expect(refreshed.status).toBe(400);
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');
    // The page shows the id operators put in `admins` / `users`; signing out revokes the session token.
    expect(await page.textContent('#user-id')).toBe('local:admin');
    const session = (await context.cookies()).find((c) => c.name === 'mcp-account')!;
    await Promise.all([page.waitForURL(/\/login\?/), page.click('text=Sign out')]);
    const copied = await fetch(`${gw.url}/account`, {
      headers: { cookie: `mcp-account=${session.value}` },
      redirect: 'manual',
    });
    expect(copied.status).toBe(303);
    expect(copied.headers.get('location')).toContain('/authorize');
    await context.close();

    const refused = await call();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }, 120_000);
});
