import { calculateJwkThumbprint, decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProof, proofKey, type ProofKey } from '../helpers/dpop.js';
import {
  Browser,
  completeLogin,
  localUsers,
  startStack,
  type TestStack,
  TEST_PASSWORD_COST,
} from './helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:7777/callback';

async function discover(t: TestStack): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(
    new URL(t.url),
    await oauth.discoveryRequest(new URL(t.url), insecure),
  );
}

/** The RFC error of a refused oauth4webapi call (a response body error or a WWW-Authenticate challenge). */
async function refused(p: Promise<unknown>): Promise<{ error: string; status: number }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof oauth.ResponseBodyError) return { error: err.error, status: err.status };
  if (err instanceof oauth.WWWAuthenticateChallengeError)
    return { error: err.cause[0]!.parameters.error!, status: err.status };
  throw new Error(`expected a refusal, got ${String(err)}`);
}

const issuedCount = (t: TestStack) =>
  t.audit.filter((r) => r.type === 'token.issued' || r.type === 'token.refreshed').length;

async function publicClient(t: TestStack): Promise<oauth.Client> {
  const reg = await t.as.clients.register({
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  return { client_id: reg.client.client_id, token_endpoint_auth_method: 'none' };
}

/** Authorization code flow up to the token request (which the caller sends with or without a proof). */
async function authorize(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  extra: Record<string, string> = {},
): Promise<(options: oauth.TokenEndpointRequestOptions) => Promise<Response>> {
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'mcp:read mcp:write',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  const cb = await completeLogin(new Browser(), url.href, REDIRECT);
  const params = oauth.validateAuthResponse(as, client, cb, oauth.expectNoState);
  return (options) =>
    oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, {
      ...insecure,
      ...options,
    });
}

/** A resource request through oauth4webapi; a refusal's response is returned, not thrown. */
async function callResource(t: TestStack, token: string, DPoP?: oauth.DPoPHandle): Promise<Response> {
  return oauth
    .protectedResourceRequest(token, 'GET', new URL(t.resource), undefined, undefined, {
      ...insecure,
      ...(DPoP ? { DPoP } : {}),
    })
    .catch((e: unknown) => {
      if (e instanceof oauth.WWWAuthenticateChallengeError) return e.response;
      throw e;
    });
}

describe('rfc9449: DPoP with oauth4webapi against the authorization server and its resource guard', () => {
  let t: TestStack;
  let as: oauth.AuthorizationServer;
  let key: ProofKey;
  let other: ProofKey;
  beforeAll(async () => {
    t = await startStack({
      identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
      grants: { clientCredentials: true },
    });
    as = await discover(t);
    key = await proofKey();
    other = await proofKey();
  });
  afterAll(() => t.close());

  it('rfc9449 §5.1: metadata advertises dpop_signing_alg_values_supported', () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']),
    );
    expect(as.dpop_signing_alg_values_supported).not.toContain('HS256');
  });

  it('code flow with dpop_jkt: a DPoP token with cnf.jkt, usable only with proofs of its key', async () => {
    const client = await publicClient(t);
    const DPoP = oauth.DPoP(client, key.pair);
    const jkt = await DPoP.calculateThumbprint();
    const send = await authorize(as, client, { dpop_jkt: jkt });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await send({ DPoP }));
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const ok = await callResource(t, tokens.access_token, DPoP);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: 'local:alice' });

    // The same token as Bearer: refused, with a DPoP challenge so the client knows the scheme.
    const bearer = await fetch(t.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(
      /^DPoP algs="[^"]*ES256[^"]*", error="invalid_token"/,
    );

    // Another key's proof.
    const stolen = await callResource(t, tokens.access_token, oauth.DPoP(client, other.pair));
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="DPoP proof key does not match/,
    );

    // A proof for another URL, for another method, without ath, and a replayed proof.
    const auth = { authorization: `DPoP ${tokens.access_token}` };
    const cases: [string, Promise<string>, string][] = [
      [
        'another URL',
        makeProof(key, 'GET', `${t.rs.url}/other`, { accessToken: tokens.access_token }),
        'htu',
      ],
      ['another method', makeProof(key, 'POST', t.resource, { accessToken: tokens.access_token }), 'htm'],
      ['no ath', makeProof(key, 'GET', t.resource), 'ath missing'],
      ['no proof', Promise.resolve(''), 'proof missing'],
    ];
    for (const [, proof, why] of cases) {
      const p = await proof;
      const res = await fetch(t.resource, { headers: { ...auth, ...(p ? { dpop: p } : {}) } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP algs=".*", error="invalid_dpop_proof"/);
      expect(((await res.json()) as { error_description: string }).error_description).toContain(why);
    }
    const once = await makeProof(key, 'GET', t.resource, { accessToken: tokens.access_token });
    expect((await fetch(t.resource, { headers: { ...auth, dpop: once } })).status).toBe(200);
    const replay = await fetch(t.resource, { headers: { ...auth, dpop: once } });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error_description: string }).error_description).toContain(
      'already used',
    );
    // Two proofs in one request.
    const two = await fetch(t.resource, {
      headers: [
        ['authorization', auth.authorization],
        ['dpop', await makeProof(key, 'GET', t.resource, { accessToken: tokens.access_token })],
        ['dpop', await makeProof(key, 'GET', t.resource, { accessToken: tokens.access_token })],
      ],
    });
    expect(two.status).toBe(401);
  });

  it('rfc9449 §5: a public client’s refresh token is bound to its key; a refusal does not burn it', async () => {
    const client = await publicClient(t);
    const DPoP = oauth.DPoP(client, key.pair);
    const send = await authorize(as, client);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await send({ DPoP }));
    const before = issuedCount(t);
    const refresh = (opts: oauth.TokenEndpointRequestOptions) =>
      oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, {
        ...insecure,
        ...opts,
      });
    expect(await refused(oauth.processRefreshTokenResponse(as, client, await refresh({})))).toEqual({
      error: 'invalid_dpop_proof',
      status: 400,
    });
    expect(
      await refused(
        oauth.processRefreshTokenResponse(
          as,
          client,
          await refresh({ DPoP: oauth.DPoP(client, other.pair) }),
        ),
      ),
    ).toEqual({ error: 'invalid_grant', status: 400 });
    expect(issuedCount(t)).toBe(before);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await refresh({ DPoP }));
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.jwk) });
    expect((await callResource(t, refreshed.access_token, DPoP)).status).toBe(200);
  });

  it('rfc9449 §10: a code bound with dpop_jkt is refused with another key or without a proof', async () => {
    const client = await publicClient(t);
    const jkt = await oauth.DPoP(client, key.pair).calculateThumbprint();
    const before = issuedCount(t);
    const withOther = await authorize(as, client, { dpop_jkt: jkt });
    expect(
      await refused(
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await withOther({ DPoP: oauth.DPoP(client, other.pair) }),
        ),
      ),
    ).toEqual({ error: 'invalid_grant', status: 400 });
    const without = await authorize(as, client, { dpop_jkt: jkt });
    expect(await refused(oauth.processAuthorizationCodeResponse(as, client, await without({})))).toEqual({
      error: 'invalid_dpop_proof',
      status: 400,
    });
    expect(issuedCount(t)).toBe(before);
  });

  it('token endpoint: bad proofs are 400 invalid_dpop_proof and issue nothing', async () => {
    const client = await publicClient(t);
    const tokenUrl = `${t.url}/token`;
    const cases: [string, () => Promise<string>][] = [
      ['htu of another endpoint', () => makeProof(key, 'POST', `${t.url}/revoke`)],
      ['htm GET', () => makeProof(key, 'GET', tokenUrl)],
      [
        'iat an hour ago',
        () => makeProof(key, 'POST', tokenUrl, { iat: Math.floor(Date.now() / 1000) - 3600 }),
      ],
      [
        'iat in a minute',
        () => makeProof(key, 'POST', tokenUrl, { iat: Math.floor(Date.now() / 1000) + 60 }),
      ],
      ['unsupported alg (ES512)', async () => makeProof(await proofKey('ES512'), 'POST', tokenUrl)],
    ];
    const before = issuedCount(t);
    for (const [name, build] of cases) {
      const send = await authorize(as, client);
      const res = await send({ headers: new Headers({ dpop: await build() }) });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
      expect(((await res.json()) as { error: string }).error).toBe('invalid_dpop_proof');
    }
    // A proof used once at /token cannot be used again.
    const proof = await makeProof(key, 'POST', tokenUrl);
    const first = await authorize(as, client);
    expect((await first({ headers: new Headers({ dpop: proof }) })).status).toBe(200);
    const second = await authorize(as, client);
    const replay = await second({ headers: new Headers({ dpop: proof }) });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    expect(issuedCount(t)).toBe(before + 1);
  });

  it('client_credentials with a proof is DPoP-bound; introspection reports token_type and cnf', async () => {
    const reg = await t.as.clients.register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:read',
    });
    const client: oauth.Client = { client_id: reg.client.client_id };
    const clientAuth = oauth.ClientSecretBasic(reg.clientSecret!);
    const DPoP = oauth.DPoP(client, key.pair);
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        clientAuth,
        { resource: t.resource },
        { ...insecure, DPoP },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure),
    );
    expect(introspected).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: await DPoP.calculateThumbprint() },
    });
  });

  it('rfc9449 §5.2: dpop_bound_access_tokens clients must send a proof', async () => {
    const res = await fetch(`${t.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'mcp:read',
        dpop_bound_access_tokens: true,
      }),
    });
    const reg = (await res.json()) as {
      client_id: string;
      client_secret: string;
      dpop_bound_access_tokens: boolean;
    };
    expect(reg.dpop_bound_access_tokens).toBe(true);
    const client: oauth.Client = { client_id: reg.client_id };
    const clientAuth = oauth.ClientSecretBasic(reg.client_secret);
    const before = issuedCount(t);
    const call = (opts: oauth.TokenEndpointRequestOptions) =>
      oauth.clientCredentialsGrantRequest(
        as,
        client,
        clientAuth,
        { resource: t.resource },
        { ...insecure, ...opts },
      );
    expect(await refused(oauth.processClientCredentialsResponse(as, client, await call({})))).toEqual({
      error: 'invalid_dpop_proof',
      status: 400,
    });
    expect(issuedCount(t)).toBe(before);
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await call({ DPoP: oauth.DPoP(client, key.pair) }),
    );
    expect(tokens.token_type).toBe('dpop');
  });

  it('Bearer clients are unchanged: token_type Bearer, no cnf, Bearer challenge', async () => {
    const client = await publicClient(t);
    const send = await authorize(as, client);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await send({}));
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();
    expect((await callResource(t, tokens.access_token)).status).toBe(200);
    // A Bearer token presented with the DPoP scheme is not a DPoP token.
    const res = await callResource(t, tokens.access_token, oauth.DPoP(client, key.pair));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error_description="token is not DPoP-bound"/);
    const none = await fetch(t.resource);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer scope="mcp:read", resource_metadata=/);
  });
});

describe('rfc9449 §8/§9: DPoP required with server nonces', () => {
  let t: TestStack;
  let as: oauth.AuthorizationServer;
  beforeAll(async () => {
    t = await startStack({
      identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
      dpop: { required: true, nonce: true },
    });
    as = await discover(t);
  });
  afterAll(() => t.close());

  it('oauth4webapi retries on use_dpop_nonce at /token and at the resource', async () => {
    const client = await publicClient(t);
    const DPoP = oauth.DPoP(client, (await proofKey()).pair);
    const send = await authorize(as, client);
    const before = issuedCount(t);
    // Without any proof: refused (DPoP is required), with a nonce to use.
    const bare = await send({});
    expect(bare.status).toBe(400);
    expect(bare.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await bare.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    // First proof without a nonce: use_dpop_nonce; the handle learns the nonce and the retry passes.
    const first = await oauth
      .processAuthorizationCodeResponse(as, client, await send({ DPoP }))
      .catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    expect(issuedCount(t)).toBe(before);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await send({ DPoP }));
    expect(tokens.token_type).toBe('dpop');

    // The resource asks for its nonce the same way (401 + WWW-Authenticate: DPoP error="use_dpop_nonce").
    const challenge = await oauth
      .protectedResourceRequest(tokens.access_token, 'GET', new URL(t.resource), undefined, undefined, {
        ...insecure,
        DPoP,
      })
      .catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(challenge)).toBe(true);
    const ok = await callResource(t, tokens.access_token, DPoP);
    expect(ok.status).toBe(200);
  });

  it('a stale nonce is refused with a fresh one', async () => {
    const key = await proofKey();
    const res = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await makeProof(key, 'POST', `${t.url}/token`, { nonce: 'A'.repeat(43) }),
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'x',
        code_verifier: 'y'.repeat(43),
        client_id: (await publicClient(t)).client_id,
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'use_dpop_nonce',
      error_description: 'DPoP nonce stale',
    });
    expect(res.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
