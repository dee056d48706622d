import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  chromiumLaunchOptions,
  killAllSpawned,
  listen,
  spawnCli,
  type Listening,
} from '@mcp-gateway/testkit';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayCli, repoRoot, startGateway, type RunningGateway } from './gateway-helpers.js';

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

/** Registers a public app (DCR) receiving its codes at the test's callback: its client id. */
async function registerApp(client_name: string): Promise<string> {
  const reg = await fetch(`${gw.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name,
      redirect_uris: [`${cb.url}/callback`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  expect(reg.status).toBe(201);
  return ((await reg.json()) as { client_id: string }).client_id;
}

/** The authorization request of `client_id` for `resource` and `scope` (PKCE): its URL and verifier. */
function authorizeUrl(client_id: string, resource: string, scope: string, state: string) {
  const verifier = b64url(randomBytes(32));
  const authorize = new URL(`${gw.url}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id,
    redirect_uri: `${cb.url}/callback`,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    resource,
    scope,
  }).toString();
  return { authorize, verifier };
}

/** Redeems the last code the callback received: the token endpoint's answer. */
async function redeem(client_id: string, verifier: string, resource: string) {
  const tokenRes = await fetch(`${gw.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: codes.at(-1)!.searchParams.get('code')!,
      redirect_uri: `${cb.url}/callback`,
      client_id,
      code_verifier: verifier,
      resource,
    }),
  });
  expect(tokenRes.status).toBe(200);
  return (await tokenRes.json()) as { access_token: string; refresh_token: string };
}

/** Signs in as the admin on the sign-in page `page` shows, then waits for `next`. */
async function signIn(page: Page, next: string | RegExp): Promise<void> {
  await page.fill('#username', 'admin');
  await page.fill('#password', gw.adminPassword!);
  await Promise.all([page.waitForURL(next), page.click('#sign-in')]);
}

/** A refresh of `client_id`'s grant: its status and error. */
async function refresh(client_id: string, refresh_token: string) {
  const res = await fetch(`${gw.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id }),
  });
  return { status: res.status, error: ((await res.json()) as { error?: string }).error };
}

describe('gateway in headless Chromium: login, consent, connected apps', () => {
  it('a registered app gets a code through the login and consent pages; /account signs in without consent, lists it by name and revokes it only after confirmation', async () => {
    const client_id = await registerApp('Chromium Test App');
    const { authorize, verifier } = authorizeUrl(client_id, `${gw.url}/demo/mcp`, 'mcp:demo', 'st-1');

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorize.href);
    await signIn(page, /\/consent\?flow=/);
    expect(await page.textContent('body')).toContain('Chromium Test App');
    await page.screenshot({ path: path.join(artifacts, 'gateway-consent.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${cb.url}/callback?**`), page.click('#approve')]);
    const back = codes.at(-1)!;
    expect(back.searchParams.get('state')).toBe('st-1');
    const { access_token, refresh_token } = await redeem(client_id, verifier, `${gw.url}/demo/mcp`);
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
    await signIn(page, `${gw.url}/account`);
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
    expect(await refresh(client_id, refresh_token)).toEqual({ status: 400, error: 'invalid_grant' });
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

  it('an app holding only account access (scope account) is listed on /account and revocable there, as is `mcp-gateway token --service account`', async () => {
    // The operator's grant to the CLI client for the account resource (the running gateway's data dir and port).
    const tokenCmd = spawnCli(
      process.execPath,
      [gatewayCli, 'token', '--user', 'admin', '--service', 'account'],
      {
        cwd: gw.cwd,
        env: { MCP_GATEWAY__LISTEN__PORT: String(gw.port) },
      },
    );
    expect((await tokenCmd.exited).code, tokenCmd.stderr).toBe(0);
    const client_id = await registerApp('Account Manager App');
    const account = `${gw.url}/account`;
    const { authorize, verifier } = authorizeUrl(client_id, account, 'account', 'st-acc');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authorize.href);
    await signIn(page, /\/consent\?flow=/);
    expect(await page.textContent('body')).toContain('Account Manager App');
    await Promise.all([page.waitForURL(`${cb.url}/callback?**`), page.click('#approve')]);
    expect(codes.at(-1)!.searchParams.get('state')).toBe('st-acc');
    const { refresh_token } = await redeem(client_id, verifier, account);

    await page.goto(account);
    await signIn(page, account);
    // Listed like any app (its account access lets it manage the user's grants); the page itself is not.
    const row = page.locator(`#apps li.app[data-client-id="${client_id}"]`);
    expect(await row.count()).toBe(1);
    expect(await row.locator('.app-name').textContent()).toBe('Account Manager App');
    expect(await row.locator('.scopes').textContent()).toBe('account');
    expect(await page.locator(`[data-client-id="mcp-gateway-account"]`).count()).toBe(0);
    const cliRow = page.locator(`#apps li.app[data-client-id="mcp-gateway-cli"]`);
    expect(await cliRow.locator('.app-name').textContent()).toBe('mcp-gateway token command');
    expect(await cliRow.locator('.scopes').textContent()).toBe('account');

    await Promise.all([page.waitForURL(`${gw.url}/account/revoke`), row.locator('button.revoke').click()]);
    expect(await page.textContent('#confirm-question')).toContain('Account Manager App');
    await Promise.all([page.waitForURL(account), page.click('button.revoke-confirm')]);
    expect(await page.locator(`[data-client-id="${client_id}"]`).count()).toBe(0);
    expect(await refresh(client_id, refresh_token)).toEqual({ status: 400, error: 'invalid_grant' });
    await Promise.all([page.waitForURL(`${gw.url}/account/revoke`), cliRow.locator('button.revoke').click()]);
    await Promise.all([page.waitForURL(account), page.click('button.revoke-confirm')]);
    expect(await page.locator('#no-apps').count()).toBe(1);
    await context.close();
  }, 120_000);
});
