import { afterEach, describe, expect, it } from 'vitest';
import { localIdentityProvider } from '../../src/idp/local.js';
import { MemoryStore } from '../../src/store/keyv.js';
import type { Grant } from '../../src/tokens/grants.js';
import {
  Browser,
  formAction,
  hiddenFields,
  localUsers,
  startAs,
  TEST_PASSWORD_COST,
  type TestAs,
} from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
const A = 'https://a.example.test/mcp';
const B = 'https://b.example.test/mcp';
const SUB = 'local:alice';
const VERIFIER = 'v'.repeat(43);

const servers: TestAs[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** An AS with two resources (A, B) offering `read` and `write`, the local provider (alice) and one public client. */
async function server(): Promise<TestAs & { clientId: string; store: MemoryStore }> {
  const store = new MemoryStore();
  const t = await startAs({
    store,
    resources: [
      { resource: A, scopes: ['read', 'write'], name: 'A', default: true },
      { resource: B, scopes: ['read', 'write'], name: 'B' },
    ],
    identityProvider: localIdentityProvider({ users: await localUsers(), passwordCost: TEST_PASSWORD_COST }),
  });
  servers.push(t);
  const reg = await t.as.clients.register({
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    client_name: 'Per-resource consent test',
    token_endpoint_auth_method: 'none',
  });
  return { ...t, clientId: reg.client.client_id, store };
}

/**
 * Runs one authorization request for `scope` on `resource` (signing in as alice), approving the
 * consent page if it is shown. Returns whether it was shown and the code the client received.
 */
async function authorize(
  t: TestAs & { clientId: string },
  resource: string,
  scope: string,
): Promise<{ consentShown: boolean; code: string }> {
  const challenge = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(VERIFIER)),
  ).toString('base64url');
  const u = new URL(`${t.url}/authorize`);
  u.search = new URLSearchParams({
    client_id: t.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource,
    scope,
  }).toString();
  const browser = new Browser();
  const login = await browser.follow(u.href, REDIRECT);
  const loginPage = await login.page!.text();
  expect(loginPage).toContain('name="password"');
  const signedIn = await browser.post(formAction(loginPage), {
    ...hiddenFields(loginPage),
    username: 'alice',
    password: 'correct horse battery staple',
  });
  let step = await browser.follow(new URL(signedIn.headers.get('location')!, t.url).href, REDIRECT);
  let consentShown = false;
  if (step.page) {
    const page = await step.page.text();
    expect(page).toContain('name="decision"');
    consentShown = true;
    const answered = await browser.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
    step = await browser.follow(new URL(answered.headers.get('location')!, t.url).href, REDIRECT);
  }
  const code = step.location?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${step.location?.href}`);
  return { consentShown, code };
}

/** Redeems a code; returns the token response. */
async function redeem(t: TestAs & { clientId: string }, code: string) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: VERIFIER,
      redirect_uri: REDIRECT,
      client_id: t.clientId,
    }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token?: string; scope: string };
}

describe('remembered consent is per resource', () => {
  it('consent to A {read, write} and B {read} does not cover B {write}: the page is shown again', async () => {
    const t = await server();
    expect((await authorize(t, A, 'read write')).consentShown).toBe(true);
    expect((await authorize(t, B, 'read')).consentShown).toBe(true);
    // `write` was approved on A only.
    const bWrite = await authorize(t, B, 'write');
    expect(bWrite.consentShown).toBe(true);
    // Once approved there, it is remembered.
    expect((await authorize(t, B, 'read write')).consentShown).toBe(false);
    const [grant] = await t.as.grants.list(SUB);
    expect(grant!.scopesByResource).toEqual({ [A]: ['read', 'write'], [B]: ['read', 'write'] });
  });

  it('the same resource with a subset of the approved scopes skips consent; the token carries the requested scopes', async () => {
    const t = await server();
    const first = await authorize(t, A, 'read write');
    expect(first.consentShown).toBe(true);
    const again = await authorize(t, A, 'read');
    expect(again.consentShown).toBe(false);
    const tokens = await redeem(t, again.code);
    expect(tokens.scope).toBe('read');
    // Refresh keeps the family's own scope (never the grant's wider one).
    expect(tokens.refresh_token).toBeTruthy();
    {
      const res = await fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token!,
          client_id: t.clientId,
          scope: 'read write',
        }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_scope');
    }
    // Withdrawing the grant asks again.
    const [grant] = await t.as.grants.list(SUB);
    expect(await t.as.grants.revoke(grant!.id)).toBe(true);
    expect((await authorize(t, A, 'read')).consentShown).toBe(true);
  });

  it('a grant stored before the per-resource record covers only an unambiguous single resource', async () => {
    const t = await server();
    await authorize(t, A, 'read');
    const [grant] = await t.as.grants.list(SUB);
    const key = `grant:${grant!.id}`;
    const old = (fields: Partial<Grant>): Grant => {
      const g: Grant = { ...grant!, ...fields };
      delete g.scopesByResource;
      return g;
    };

    // Old format naming two resources: the pairing of scopes and resources is unknown, so nothing is covered.
    await t.store.set(key, old({ scopes: ['read', 'write'], resources: [A, B] }));
    expect((await authorize(t, B, 'read')).consentShown).toBe(true);
    // That consent starts the per-resource record with what was just approved; A is asked again.
    expect((await t.as.grants.list(SUB))[0]!.scopesByResource).toEqual({ [B]: ['read'] });
    expect((await authorize(t, A, 'read')).consentShown).toBe(true);
    expect((await authorize(t, B, 'write')).consentShown).toBe(true);

    // Old format naming one resource: its scopes were approved on it, and only there.
    await t.store.set(key, old({ scopes: ['read', 'write'], resources: [A] }));
    expect((await authorize(t, A, 'read write')).consentShown).toBe(false);
    expect((await authorize(t, B, 'read')).consentShown).toBe(true);
    expect((await t.as.grants.list(SUB))[0]!.scopesByResource).toEqual({
      [A]: ['read', 'write'],
      [B]: ['read'],
    });
  });
});
