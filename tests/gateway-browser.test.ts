import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { killAllSpawned, listen, type Listening } from '@mcp-gateway/testkit';
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
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await cb?.close();
  await killAllSpawned();
});

const b64url = (b: Buffer) => b.toString('base64url');

describe('gateway in headless Chromium: login, consent, connected apps', () => {
  it('a registered app gets a code through the login and consent pages; the user then revokes it on /account', async () => {
    const reg = await fetch(`${gw.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Chromium Test App',
        redirect_uris: [`${cb.url}/callback`],
        token_endpoint_auth_method: 'none',
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
    const { access_token } = (await tokenRes.json()) as { access_token: string };
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

    // Connected apps: the account page signs the user in (same pages), lists the app, revokes it.
    await page.goto(`${gw.url}/account`);
    await page.fill('#username', 'admin');
    await page.fill('#password', gw.adminPassword!);
    await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
    await Promise.all([page.waitForURL(`${gw.url}/account`), page.click('#approve')]);
    expect(await page.textContent('h1')).toBe('Connected apps');
    expect(await page.textContent('table')).toContain('Chromium Test App');
    await page.screenshot({ path: path.join(artifacts, 'gateway-connected-apps.png'), fullPage: true });
    const row = page.locator('tr', { hasText: 'Chromium Test App' });
    await Promise.all([page.waitForURL(`${gw.url}/account`), row.locator('button').click()]);
    expect(await page.textContent('body')).not.toContain('Chromium Test App');
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
