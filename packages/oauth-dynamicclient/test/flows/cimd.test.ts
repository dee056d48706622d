import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Browser,
  completeLogin,
  formAction,
  hiddenFields,
  localUsers,
  loopbackError,
  startAs,
  type TestAs,
  TEST_PASSWORD_COST,
} from './helpers.js';

const REDIRECT = 'http://127.0.0.1:7777/cb';
/** The redirect URI of the document at `/web.json`: a web app's, not loopback. */
const WEB = 'https://app.example/cb';

let doc: Listening;
let t: TestAs;
let clientId = '';
beforeAll(async () => {
  doc = await listen((req) => {
    const path = new URL(req.url).pathname;
    return Response.json({
      client_id: `${doc.url}${path}`,
      client_name: 'CIMD App',
      redirect_uris: [path === '/web.json' ? WEB : REDIRECT],
      token_endpoint_auth_method: 'none',
    });
  });
  clientId = `${doc.url}/client.json`;
  t = await startAs({
    identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
    cimd: { allowLoopback: true },
  });
});
afterAll(async () => {
  await t.close();
  await doc.close();
});

describe('a Client ID Metadata Document client through the flows', () => {
  it('consent shows the full metadata URL; the code redeems with client_id only', async () => {
    const verifier = 'm'.repeat(43);
    const challenge = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
    ).toString('base64url');
    const u = new URL(`${t.url}/authorize`);
    u.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const browser = new Browser();
    const login = await browser.follow(u.href, REDIRECT);
    const loginPage = await login.page!.text();
    const afterLogin = await browser.post(formAction(loginPage), {
      ...hiddenFields(loginPage),
      username: 'alice',
      password: 'correct horse battery staple',
    });
    const consent = await browser.follow(new URL(afterLogin.headers.get('location')!, t.url).href, REDIRECT);
    const page = await consent.page!.text();
    // The whole metadata URL, never "verified domain" (a shared host proves nothing about who published it).
    expect(/Client metadata from\s+<bdi id="client-metadata-url">([^<]+)<\/bdi>/.exec(page)?.[1]).toBe(
      clientId,
    );
    expect(page).not.toContain('Verified domain');
    expect(page).toContain('CIMD App');
    const decided = await browser.post(formAction(page), { ...hiddenFields(page), decision: 'approve' });
    const cb = new URL(decided.headers.get('location')!);
    const res = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: cb.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      }),
    });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    expect((await t.as.verifyAccessToken(token, { resource: t.resource })).clientId).toBe(clientId);
    // Remembered consent: the next authorization goes straight back.
    const again = await completeLogin(new Browser(), u.href, REDIRECT);
    expect(again.searchParams.get('code')).toBeTruthy();
  });

  /** An authorization request of the CIMD client `id` whose scope is refused (`invalid_scope`). */
  const refusedRequest = (id: string, redirectUri: string) => {
    const u = new URL(`${t.url}/authorize`);
    u.search = new URLSearchParams({
      client_id: id,
      redirect_uri: redirectUri,
      response_type: 'code',
      state: 'cimd-state',
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      scope: 'not-a-scope',
    }).toString();
    return fetch(u, { redirect: 'manual' });
  };

  it('rfc9700 §4.11.2: a request error of a CIMD client with a web redirect URI is the error page with a link back, never an automatic redirect', async () => {
    const res = await refusedRequest(`${doc.url}/web.json`, WEB);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const page = await res.text();
    const back = new URL(/<a id="return-to" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&'));
    expect(back.origin + back.pathname).toBe(WEB);
    expect(back.searchParams.get('error')).toBe('invalid_scope');
    expect(back.searchParams.get('state')).toBe('cimd-state');
  });

  it('rfc8252 §7.3: a CIMD client whose redirect URI is a loopback IP literal gets the request error by an automatic redirect (error, state, iss), on any port', async () => {
    const other = 'http://127.0.0.1:50123/cb';
    const back = loopbackError(await refusedRequest(clientId, other), other);
    expect(Object.fromEntries(back)).toEqual({
      error: 'invalid_scope',
      error_description: 'scope not allowed: not-a-scope',
      state: 'cimd-state',
      iss: t.url,
    });
  });
});
