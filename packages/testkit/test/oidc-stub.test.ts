import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcStub, type OidcIdTokenFault, type OidcStub } from '../src/index.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:9/cb';

let offset = 0;
let stub: OidcStub;
let as: oauth.AuthorizationServer;
const client: oauth.Client = { client_id: 'rp' };
const auth = oauth.ClientSecretBasic('rp-secret');

beforeAll(async () => {
  stub = await startOidcStub({
    now: () => Date.now() + offset,
    clients: [
      { clientId: 'rp', clientSecret: 'rp-secret', redirectUris: [REDIRECT] },
      { clientId: 'public-rp', redirectUris: [REDIRECT] },
    ],
    users: [
      {
        sub: 'u-1',
        name: 'Alice',
        email: 'alice@example.test',
        preferredUsername: 'alice',
        groups: ['staff'],
      },
      { sub: 'u-2', name: 'Bob', preferredUsername: 'bob' },
    ],
  });
  as = await oauth.processDiscoveryResponse(
    new URL(stub.issuer),
    await oauth.discoveryRequest(new URL(stub.issuer), { algorithm: 'oidc', ...insecure }),
  );
});
afterAll(() => stub.close());

async function authorize(extra: Record<string, string> = {}, c: oauth.Client = client) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: c.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return { callback: new URL(res.headers.get('location')!), verifier, state, nonce };
}

async function codeFlow(c: oauth.Client = client, a: oauth.ClientAuth = auth) {
  const { callback, verifier, state, nonce } = await authorize({}, c);
  const params = oauth.validateAuthResponse(as, c, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, c, a, params, REDIRECT, verifier, insecure);
  return { response, nonce, params, verifier };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('oidc stub through oauth4webapi', () => {
  it('discovery publishes the endpoints, S256 and the signing alg', () => {
    expect(as.issuer).toBe(stub.issuer);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(as.jwks_uri).toBe(`${stub.issuer}/jwks`);
  });

  it('code + PKCE + nonce + state: signed ID token, access token, userinfo', async () => {
    const { response, nonce } = await codeFlow();
    const ref = response.clone();
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: nonce,
    });
    await oauth.validateApplicationLevelSignature(as, response, insecure);
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({
      iss: stub.issuer,
      aud: 'rp',
      sub: 'u-1',
      nonce,
      email: 'alice@example.test',
    });
    expect(ref.headers.get('cache-control')).toBe('no-store');

    const info = await oauth.processUserInfoResponse(
      as,
      client,
      'u-1',
      await oauth.userInfoRequest(as, client, tokens.access_token, insecure),
    );
    expect(info).toMatchObject({ sub: 'u-1', name: 'Alice', preferred_username: 'alice', groups: ['staff'] });
    expect(stub.tokens.get(tokens.access_token)!.uses).toBe(1);
  });

  it('client_secret_post and public clients (none) authenticate too', async () => {
    const post = await codeFlow(client, oauth.ClientSecretPost('rp-secret'));
    expect(
      (await oauth.processAuthorizationCodeResponse(as, client, post.response, { expectedNonce: post.nonce }))
        .access_token,
    ).toMatch(/^at_/);
    const pub: oauth.Client = { client_id: 'public-rp', token_endpoint_auth_method: 'none' };
    const none = await codeFlow(pub, oauth.None());
    expect(
      (await oauth.processAuthorizationCodeResponse(as, pub, none.response, { expectedNonce: none.nonce }))
        .access_token,
    ).toMatch(/^at_/);
  });

  it('login_hint selects the user', async () => {
    const { callback, verifier, state, nonce } = await authorize({ login_hint: 'bob' });
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      oauth.validateAuthResponse(as, client, callback, state),
      REDIRECT,
      verifier,
      insecure,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: nonce,
    });
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe('u-2');
  });

  it('an issuer with a path (Keycloak style) and ES256 keys; rotation keeps the old key in the JWKS', async () => {
    const kc = await startOidcStub({ issuerPath: '/realms/test', alg: 'ES256' });
    try {
      const kcAs = await oauth.processDiscoveryResponse(
        new URL(kc.issuer),
        await oauth.discoveryRequest(new URL(kc.issuer), { algorithm: 'oidc', ...insecure }),
      );
      expect(kcAs.token_endpoint).toBe(`${kc.url}/realms/test/token`);
      const old = kc.jwks().keys[0]!.kid;
      await kc.rotateKeys();
      const jwks = (await (await fetch(kcAs.jwks_uri!)).json()) as { keys: { kid: string; alg: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual([old, kc.jwks().keys[1]!.kid]);
      expect(jwks.keys.every((k) => k.alg === 'ES256')).toBe(true);
    } finally {
      await kc.close();
    }
  });

  it('deny (fault and form button): the callback has error=access_denied, state and iss', async () => {
    stub.faults.deny = true;
    try {
      const { callback, state } = await authorize();
      expect(callback.searchParams.get('iss')).toBe(stub.issuer);
      const err = (() => {
        try {
          oauth.validateAuthResponse(as, client, callback, state);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(oauth.AuthorizationResponseError);
      expect((err as oauth.AuthorizationResponseError).error).toBe('access_denied');
    } finally {
      stub.faults.deny = false;
    }

    stub.autoApprove = false;
    try {
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: 'rp',
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'openid',
        state: 'st',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      }).toString();
      const page = await (await fetch(url)).text();
      const pending = /name="pending" value="([^"]+)"/.exec(page)![1]!;
      const denied = await fetch(as.authorization_endpoint!, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ pending, decision: 'deny' }),
      });
      const loc = new URL(denied.headers.get('location')!);
      expect(loc.searchParams.get('error')).toBe('access_denied');
      expect(loc.searchParams.get('state')).toBe('st');
    } finally {
      stub.autoApprove = true;
    }
  });

  it('PKCE required: no code_challenge → redirect with invalid_request; plain → invalid_request', async () => {
    const missing = await authorize({ code_challenge: '', code_challenge_method: '' });
    expect(missing.callback.searchParams.get('error')).toBe('invalid_request');
    const plain = await authorize({ code_challenge_method: 'plain' });
    expect(plain.callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('PKCE: a wrong verifier is invalid_grant', async () => {
    const { callback, state } = await authorize();
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      oauth.validateAuthResponse(as, client, callback, state),
      REDIRECT,
      oauth.generateRandomCodeVerifier(),
      insecure,
    );
    const err = await rejection(oauth.processAuthorizationCodeResponse(as, client, response));
    expect(err).toBeInstanceOf(oauth.ResponseBodyError);
    expect((err as oauth.ResponseBodyError).error).toBe('invalid_grant');
    expect((err as oauth.ResponseBodyError).status).toBe(400);
  });

  it('bad, replayed and expired codes are invalid_grant', async () => {
    const bad = oauth.validateAuthResponse(
      as,
      client,
      new URLSearchParams({ code: 'nope', state: 's', iss: stub.issuer }),
      's',
    );
    const badRes = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      bad,
      REDIRECT,
      'v'.repeat(43),
      insecure,
    );
    expect(
      (
        (await rejection(
          oauth.processAuthorizationCodeResponse(as, client, badRes),
        )) as oauth.ResponseBodyError
      ).error,
    ).toBe('invalid_grant');

    const { params, verifier, response, nonce } = await codeFlow();
    await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce });
    const replay = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      params,
      REDIRECT,
      verifier,
      insecure,
    );
    const replayErr = (await rejection(
      oauth.processAuthorizationCodeResponse(as, client, replay),
    )) as oauth.ResponseBodyError;
    expect(replayErr.error).toBe('invalid_grant');
    expect(replayErr.error_description).toBe('code already used');

    const fresh = await authorize();
    offset = 61_000;
    try {
      const expired = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        oauth.validateAuthResponse(as, client, fresh.callback, fresh.state),
        REDIRECT,
        fresh.verifier,
        insecure,
      );
      const expiredErr = (await rejection(
        oauth.processAuthorizationCodeResponse(as, client, expired),
      )) as oauth.ResponseBodyError;
      expect(expiredErr.error_description).toBe('code expired');
    } finally {
      offset = 0;
    }
  });

  it('wrong client secret: 401 invalid_client with a Basic challenge', async () => {
    const { response } = await codeFlow(client, oauth.ClientSecretBasic('wrong'));
    expect(response.status).toBe(401);
    const err = await rejection(oauth.processAuthorizationCodeResponse(as, client, response));
    expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((err as oauth.WWWAuthenticateChallengeError).cause[0]!.scheme).toBe('basic');
    const post = await codeFlow(client, oauth.ClientSecretPost('wrong'));
    const postErr = (await rejection(
      oauth.processAuthorizationCodeResponse(as, client, post.response),
    )) as oauth.ResponseBodyError;
    expect(postErr.error).toBe('invalid_client');
    expect(postErr.status).toBe(401);
  });

  const idTokenCases: [OidcIdTokenFault, string][] = [
    ['wrong_nonce', oauth.JWT_CLAIM_COMPARISON],
    ['missing_nonce', oauth.INVALID_RESPONSE],
    ['wrong_audience', oauth.JWT_CLAIM_COMPARISON],
    ['wrong_issuer', oauth.JWT_CLAIM_COMPARISON],
    ['expired', oauth.JWT_TIMESTAMP_CHECK],
  ];
  for (const [fault, code] of idTokenCases) {
    it(`id token fault ${fault}: the relying party rejects it (${code})`, async () => {
      stub.faults.idToken = fault;
      try {
        const { response, nonce } = await codeFlow();
        const err = await rejection(
          oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce }),
        );
        expect(err).toBeInstanceOf(oauth.OperationProcessingError);
        expect((err as oauth.OperationProcessingError).code).toBe(code);
      } finally {
        delete stub.faults.idToken;
      }
    });
  }

  it('id token fault bad_signature: claims pass but the JWKS signature check fails', async () => {
    stub.faults.idToken = 'bad_signature';
    try {
      const { response, nonce } = await codeFlow();
      await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce });
      const err = await rejection(oauth.validateApplicationLevelSignature(as, response, insecure));
      expect(err).toBeInstanceOf(oauth.OperationProcessingError);
      expect((err as Error).message).toMatch(/signature/i);
    } finally {
      delete stub.faults.idToken;
    }
  });

  it('fault 5xx on discovery, token and userinfo', async () => {
    stub.faults.status = { discovery: 500, token: 502, userinfo: 503 };
    try {
      const disc = await rejection(
        oauth.processDiscoveryResponse(
          new URL(stub.issuer),
          await oauth.discoveryRequest(new URL(stub.issuer), { algorithm: 'oidc', ...insecure }),
        ),
      );
      expect((disc as oauth.OperationProcessingError).code).toBe(oauth.RESPONSE_IS_NOT_CONFORM);
      const { response } = await codeFlow();
      expect(response.status).toBe(502);
      const tok = await rejection(oauth.processAuthorizationCodeResponse(as, client, response));
      expect((tok as oauth.OperationProcessingError).code).toBe(oauth.RESPONSE_IS_NOT_CONFORM);
      const info = await oauth.userInfoRequest(as, client, 'at_any', insecure);
      expect(info.status).toBe(503);
    } finally {
      stub.faults.status = {};
    }
  });

  it('fault slow response: discovery waits delayMs so a client timeout fires', async () => {
    stub.faults.delayMs = { discovery: 300 };
    try {
      const err = await rejection(
        oauth.discoveryRequest(new URL(stub.issuer), {
          algorithm: 'oidc',
          signal: AbortSignal.timeout(50),
          ...insecure,
        }),
      );
      expect((err as Error).name).toBe('TimeoutError');
    } finally {
      stub.faults.delayMs = {};
    }
  });

  it('userinfo with an unknown token: 401 Bearer error="invalid_token"', async () => {
    const response = await oauth.userInfoRequest(as, client, 'at_unknown', insecure);
    const err = await rejection(oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, response));
    expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((err as oauth.WWWAuthenticateChallengeError).cause[0]!.parameters.error).toBe('invalid_token');
  });

  it('unregistered redirect_uri: an error page, never a redirect', async () => {
    const res = await fetch(
      `${as.authorization_endpoint}?client_id=rp&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.test/cb')}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});
