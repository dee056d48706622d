import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubStub, type GitHubStub } from '../src/index.js';

// GitHub is not an OIDC provider and publishes no metadata: a client builds it by hand.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:9/callback';

let clock = Date.now();
let stub: GitHubStub;
let as: oauth.AuthorizationServer;
const client: oauth.Client = { client_id: 'gh-client' };
const auth = oauth.ClientSecretPost('gh-secret');

beforeAll(async () => {
  stub = await startGitHubStub({
    now: () => clock,
    orgIds: { github: 9919 },
    users: [
      {
        login: 'octocat',
        id: 1,
        name: 'The Octocat',
        email: 'octo@example.test',
        orgs: ['acme', 'github'],
        teams: [{ id: 77, slug: 'platform', org: 'acme' }],
      },
      { login: 'mallory', id: 2, name: null, email: null },
    ],
  });
  as = {
    issuer: stub.url,
    authorization_endpoint: stub.authorizationEndpoint,
    token_endpoint: stub.tokenEndpoint,
  };
});
afterAll(() => stub.close());

/** Runs the front channel; returns the callback URL and the PKCE verifier. */
async function authorize(extra: Record<string, string> = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    scope: 'read:user user:email read:org',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return { callback: new URL(res.headers.get('location')!), verifier, state };
}

async function exchange(params: URLSearchParams, verifier: string, opts: { signal?: AbortSignal } = {}) {
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, {
    ...insecure,
    ...opts,
  });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}

/** GitHub answers token errors with HTTP 200; oauth4webapi reports the missing access_token with the body attached. */
async function tokenError(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(oauth.OperationProcessingError);
  const ope = err as oauth.OperationProcessingError;
  expect(ope.code).toBe(oauth.INVALID_RESPONSE);
  return (ope.cause as { body: { error: string } }).body.error;
}

describe('github stub: web application flow through oauth4webapi', () => {
  it('auto-approve: code → token → /user, /user/emails, /user/orgs', async () => {
    const { callback, verifier, state } = await authorize();
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const tokens = await exchange(params, verifier);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read:user,user:email,read:org');

    const user = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(`${stub.apiUrl}/user`),
      undefined,
      undefined,
      insecure,
    );
    expect(user.status).toBe(200);
    expect(user.headers.get('x-oauth-scopes')).toBe('read:user, user:email, read:org');
    expect(await user.json()).toMatchObject({
      login: 'octocat',
      id: 1,
      name: 'The Octocat',
      email: 'octo@example.test',
    });

    const emails = await fetch(`${stub.apiUrl}/user/emails`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await emails.json()).toEqual([
      { email: 'octo@example.test', primary: true, verified: true, visibility: 'public' },
    ]);
    const orgs = await fetch(`${stub.apiUrl}/user/orgs`, {
      headers: { authorization: `token ${tokens.access_token}` },
    });
    expect(((await orgs.json()) as { login: string }[]).map((o) => o.login)).toEqual(['acme', 'github']);
    expect(stub.tokens.get(tokens.access_token)!.apiCalls).toBe(3);
  });

  it('access_token answers form-encoded unless Accept: application/json', async () => {
    const { callback, verifier } = await authorize();
    const res = await fetch(stub.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        client_id: 'gh-client',
        client_secret: 'gh-secret',
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }),
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const body = new URLSearchParams(await res.text());
    expect(body.get('access_token')).toMatch(/^gho_/);
    expect(body.get('token_type')).toBe('bearer');
  });

  it('?login= selects the approving user', async () => {
    const { callback, verifier, state } = await authorize({ login: 'mallory' });
    const tokens = await exchange(oauth.validateAuthResponse(as, client, callback, state), verifier);
    expect(stub.tokens.get(tokens.access_token)!.login).toBe('mallory');
  });

  it('approval page: approve with a chosen account, deny with access_denied', async () => {
    stub.autoApprove = false;
    try {
      const verifier = oauth.generateRandomCodeVerifier();
      const url = new URL(stub.authorizationEndpoint);
      url.search = new URLSearchParams({
        client_id: 'gh-client',
        redirect_uri: REDIRECT,
        state: 's1',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const page = await (await fetch(url)).text();
      const pending = /name="pending" value="([^"]+)"/.exec(page)![1]!;
      const approved = await fetch(stub.authorizationEndpoint, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ pending, login: 'mallory', decision: 'approve' }),
      });
      const params = oauth.validateAuthResponse(as, client, new URL(approved.headers.get('location')!), 's1');
      const tokens = await exchange(params, verifier);
      expect(stub.tokens.get(tokens.access_token)!.login).toBe('mallory');

      // The same pending request cannot be decided twice.
      const again = await fetch(stub.authorizationEndpoint, {
        method: 'POST',
        body: new URLSearchParams({ pending, decision: 'approve' }),
      });
      expect(again.status).toBe(400);

      const page2 = await (await fetch(url)).text();
      const pending2 = /name="pending" value="([^"]+)"/.exec(page2)![1]!;
      const denied = await fetch(stub.authorizationEndpoint, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ pending: pending2, decision: 'deny' }),
      });
      const err = (() => {
        try {
          oauth.validateAuthResponse(as, client, new URL(denied.headers.get('location')!), 's1');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(oauth.AuthorizationResponseError);
      expect((err as oauth.AuthorizationResponseError).error).toBe('access_denied');
    } finally {
      stub.autoApprove = true;
    }
  });

  it('fault deny: the user denies and the callback carries error=access_denied and state', async () => {
    stub.faults.deny = true;
    try {
      const { callback, state } = await authorize();
      expect(callback.searchParams.get('code')).toBeNull();
      expect(callback.searchParams.get('state')).toBe(state);
      expect(() => oauth.validateAuthResponse(as, client, callback, state)).toThrow(
        oauth.AuthorizationResponseError,
      );
      expect(callback.searchParams.get('error')).toBe('access_denied');
    } finally {
      stub.faults.deny = false;
    }
  });

  it('bad code: bad_verification_code (HTTP 200, like GitHub)', async () => {
    const { state } = await authorize();
    const forged = oauth.validateAuthResponse(
      as,
      client,
      new URLSearchParams({ code: 'not-a-code', state }),
      state,
    );
    expect(await tokenError(exchange(forged, 'x'.repeat(43)))).toBe('bad_verification_code');
  });

  it('expired code (older than 10 minutes): bad_verification_code', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    clock += 600_001;
    expect(await tokenError(exchange(params, verifier))).toBe('bad_verification_code');
  });

  it('a code works once; replay is bad_verification_code', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    await exchange(params, verifier);
    expect(await tokenError(exchange(params, verifier))).toBe('bad_verification_code');
  });

  it('PKCE: a wrong code_verifier is bad_verification_code', async () => {
    const { callback, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    expect(await tokenError(exchange(params, oauth.generateRandomCodeVerifier()))).toBe(
      'bad_verification_code',
    );
  });

  it('wrong client secret: incorrect_client_credentials', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic('wrong'),
      params,
      REDIRECT,
      verifier,
      insecure,
    );
    expect(await tokenError(oauth.processAuthorizationCodeResponse(as, client, response))).toBe(
      'incorrect_client_credentials',
    );
  });

  it('unknown client_id on authorize is a 404 page, not a redirect', async () => {
    const res = await fetch(
      `${stub.authorizationEndpoint}?client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      {
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });

  it('fault 5xx: the token endpoint answers 502 and oauth4webapi reports a non-conform response', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    stub.faults.status = { token: 502 };
    try {
      const err = await exchange(params, verifier).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(oauth.OperationProcessingError);
      expect((err as oauth.OperationProcessingError).code).toBe(oauth.RESPONSE_IS_NOT_CONFORM);
    } finally {
      stub.faults.status = {};
    }
  });

  it('fault 5xx on /user: 503', async () => {
    const { callback, verifier, state } = await authorize();
    const tokens = await exchange(oauth.validateAuthResponse(as, client, callback, state), verifier);
    stub.faults.status = { user: 503 };
    try {
      const res = await fetch(`${stub.apiUrl}/user`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(res.status).toBe(503);
    } finally {
      stub.faults.status = {};
    }
  });

  it('fault slow response: the token endpoint waits delayMs, so a client timeout fires', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(as, client, callback, state);
    stub.faults.delayMs = { token: 400 };
    try {
      const err = await exchange(params, verifier, { signal: AbortSignal.timeout(50) }).catch(
        (e: unknown) => e,
      );
      expect((err as Error).name).toBe('TimeoutError');
      // A patient client gets its token after the delay.
      const next = await authorize();
      const started = performance.now();
      const tokens = await exchange(
        oauth.validateAuthResponse(as, client, next.callback, next.state),
        next.verifier,
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(390);
      expect(tokens.access_token).toMatch(/^gho_/);
    } finally {
      stub.faults.delayMs = {};
    }
  });

  it('/user: missing token 401 "Requires authentication", unknown token 401 "Bad credentials"', async () => {
    const none = await fetch(`${stub.apiUrl}/user`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toBe('Requires authentication');
    const bad = await fetch(`${stub.apiUrl}/user`, { headers: { authorization: 'Bearer gho_nope' } });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toBe('Bad credentials');
  });

  it('/user/emails needs the user:email scope (404 without it, as GitHub answers)', async () => {
    const { callback, verifier, state } = await authorize({ scope: 'read:user' });
    const tokens = await exchange(oauth.validateAuthResponse(as, client, callback, state), verifier);
    const res = await fetch(`${stub.apiUrl}/user/emails`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(res.status).toBe(404);
  });

  it('/user/teams needs read:org (403 without it); orgs and teams carry fixed numeric ids', async () => {
    const { callback, verifier, state } = await authorize();
    const tokens = await exchange(oauth.validateAuthResponse(as, client, callback, state), verifier);
    const get = (path: string, token: string) =>
      fetch(`${stub.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const teams = await get('/user/teams', tokens.access_token);
    expect(await teams.json()).toEqual([
      { id: 77, slug: 'platform', name: 'platform', organization: { login: 'acme', id: 1000 } },
    ]);
    const orgs = (await (await get('/user/orgs', tokens.access_token)).json()) as { id: number }[];
    expect(orgs.map((o) => o.id)).toEqual([1000, 9919]);

    const narrow = await authorize({ scope: 'read:user' });
    const t2 = await exchange(
      oauth.validateAuthResponse(as, client, narrow.callback, narrow.state),
      narrow.verifier,
    );
    expect((await get('/user/teams', t2.access_token)).status).toBe(403);
  });
});
