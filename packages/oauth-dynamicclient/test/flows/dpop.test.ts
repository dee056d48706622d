import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import Keyv from 'keyv';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/dpop/proof-key.js';
import { keyvStore, type Store } from '../../src/store/index.js';
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

/** Authorization code flow up to the code: the callback's parameters and the PKCE verifier. */
async function codeFor(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  extra: Record<string, string> = {},
): Promise<{ params: URLSearchParams; verifier: string }> {
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
  return { params: oauth.validateAuthResponse(as, client, cb, oauth.expectNoState), verifier };
}

/** Authorization code flow up to the token request (which the caller sends with or without a proof). */
async function authorize(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  extra: Record<string, string> = {},
): Promise<(options: oauth.TokenEndpointRequestOptions) => Promise<Response>> {
  const { params, verifier } = await codeFor(as, client, extra);
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

describe('/token records a proof’s jti only for a grant that passed its checks, before consuming it', () => {
  const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
  const IDP = 'https://idp.example';
  const WORKLOAD = 'https://ci.example/workloads';
  const SECRET = 'dpop-record-secret-0123456789abcdef';
  /** The store's entries (Keyv's map), to count replay entries. */
  const entries = new Map<string, unknown>();
  let store: Store;
  let t: TestStack;
  let as: oauth.AuthorizationServer;
  let key: ProofKey;
  let issuerKey: CryptoKeyPair;
  let tokenUrl: string;

  beforeAll(async () => {
    store = keyvStore(new Keyv({ store: entries }));
    issuerKey = await generateKeyPair('ES256');
    const jwks = { keys: [{ ...(await exportJWK(issuerKey.publicKey)), kty: 'EC', alg: 'ES256' }] };
    t = await startStack({
      identityProvider: { type: 'local', users: await localUsers(), passwordCost: TEST_PASSWORD_COST },
      store,
      grants: { clientCredentials: true, jwtBearer: true },
      trustedIdps: [{ issuer: IDP, jwks }],
      workloadIssuers: [{ issuer: WORKLOAD, jwks, subjects: [{ subject: 'job', clientId: 'machine' }] }],
      staticClients: [
        {
          client_id: 'machine',
          client_secret: SECRET,
          grant_types: ['client_credentials', JWT_BEARER],
          scope: 'mcp:read',
        },
      ],
    });
    as = await discover(t);
    key = await proofKey();
    tokenUrl = `${t.url}/token`;
  });
  afterAll(() => t.close());

  /** How many one-time-use entries (`tokens/jti-replay.ts`) the store holds. */
  const replayEntries = () => [...entries.keys()].filter((k) => k.includes('jti:')).length;
  /** The store key of a proof's jti (issuer `dpop:<jkt>`). */
  const jtiKey = async (proof: string) =>
    `jti:${sha256(`dpop:${await calculateJwkThumbprint(key.jwk)}\u0000${decodeJwt(proof).jti as string}`)}`;
  const fresh = () => makeProof(key, 'POST', tokenUrl);

  async function token(form: Record<string, string>, proof: string, basic = false) {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: proof,
        ...(basic ? { authorization: `Basic ${Buffer.from(`machine:${SECRET}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const refusedWith = (error: string) => ({ status: 400, body: expect.objectContaining({ error }) });
  const replayRefused = {
    status: 400,
    body: { error: 'invalid_dpop_proof', error_description: 'DPoP proof already used (jti)' },
  };

  /** Asserts that `requests` (each with a fresh proof) are refused with `error` and record no proof. */
  async function refusedUnrecorded(error: string, requests: ((proof: string) => Promise<unknown>)[]) {
    const before = replayEntries();
    for (const send of requests) {
      const proof = await fresh();
      expect(await send(proof)).toEqual(refusedWith(error));
      expect(await store.get(await jtiKey(proof))).toBeUndefined();
    }
    expect(replayEntries()).toBe(before);
  }

  async function codeForm(client: oauth.Client) {
    const code = await codeFor(as, client);
    return {
      grant_type: 'authorization_code',
      code: code.params.get('code')!,
      code_verifier: code.verifier,
      redirect_uri: REDIRECT,
      client_id: client.client_id,
    };
  }

  it('authorization_code: an invalid, used or mismatched code records nothing; a replayed proof leaves the code usable', async () => {
    const client = await publicClient(t);
    const used = await codeForm(client);
    expect((await token(used, await fresh())).status).toBe(200);
    const mismatched = await codeForm(client);
    await refusedUnrecorded('invalid_grant', [
      (proof) => token({ ...used, code: 'not-a-code' }, proof),
      (proof) => token(used, proof),
      (proof) => token({ ...mismatched, code_verifier: 'w'.repeat(43) }, proof),
    ]);
    // A code that failed a check is used up, as before.
    expect(await token(mismatched, await fresh())).toEqual(refusedWith('invalid_grant'));

    const proof = await fresh();
    const recorded = replayEntries();
    expect((await token(await codeForm(client), proof)).status).toBe(200);
    expect(await store.get(await jtiKey(proof))).toBe(1);
    expect(replayEntries()).toBe(recorded + 1);
    const second = await codeForm(client);
    const before = issuedCount(t);
    expect(await token(second, proof)).toEqual(replayRefused);
    expect(issuedCount(t)).toBe(before);
    // The refused request did not redeem the code.
    expect(await token(second, await fresh())).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });

  it('refresh_token: an invalid token records nothing; a replayed proof leaves the token live', async () => {
    const client = await publicClient(t);
    const proof = await fresh();
    const issued = await token(await codeForm(client), proof);
    const rt = issued.body.refresh_token as string;
    const refresh = (refresh_token: string, p: string) =>
      token({ grant_type: 'refresh_token', refresh_token, client_id: client.client_id }, p);
    await refusedUnrecorded('invalid_grant', [(p) => refresh('not-a-refresh-token', p)]);

    const before = issuedCount(t);
    expect(await refresh(rt, proof)).toEqual(replayRefused);
    expect(issuedCount(t)).toBe(before);
    const second = await fresh();
    const rotated = await refresh(rt, second);
    expect(rotated).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    expect(rotated.body.refresh_token).not.toBe(rt);
    // A rotation, not a repeat of one the refused request made.
    expect(t.audit.filter((r) => r.type === 'token.refreshed').at(-1)).toMatchObject({ repeated: false });
    // A repeat inside the grace window is refused with a replayed proof too, and answered with a fresh one.
    expect(await refresh(rt, second)).toEqual(replayRefused);
    expect(issuedCount(t)).toBe(before + 1);
    expect((await refresh(rt, await fresh())).body.refresh_token).toBe(rotated.body.refresh_token);
  });

  it('client_credentials: a refused resource or scope records nothing; a replayed proof issues nothing', async () => {
    const form = { grant_type: 'client_credentials', resource: t.resource };
    await refusedUnrecorded('invalid_target', [
      (p) => token({ ...form, resource: 'https://elsewhere.example/mcp' }, p, true),
    ]);
    await refusedUnrecorded('invalid_scope', [(p) => token({ ...form, scope: 'mcp:write' }, p, true)]);
    const proof = await fresh();
    expect((await token(form, proof, true)).status).toBe(200);
    const before = issuedCount(t);
    expect(await token(form, proof, true)).toEqual(replayRefused);
    expect(issuedCount(t)).toBe(before);
  });

  /** An assertion signed by the IdP / workload issuer key. */
  async function assertion(claims: Record<string, unknown>, typ?: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ aud: t.url, iat: now, exp: now + 120, jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', ...(typ ? { typ } : {}) })
      .sign(issuerKey.privateKey);
  }

  it('jwt-bearer (ID-JAG): a refused assertion records nothing; a replayed proof leaves the assertion unused', async () => {
    const jag = (claims: Record<string, unknown> = {}) =>
      assertion(
        { iss: IDP, sub: 'alice', client_id: 'machine', resource: t.resource, ...claims },
        'oauth-id-jag+jwt',
      );
    const form = async (claims?: Record<string, unknown>) => ({
      grant_type: JWT_BEARER,
      assertion: await jag(claims),
    });
    await refusedUnrecorded('invalid_grant', [
      (p) => token({ grant_type: JWT_BEARER, assertion: 'not.a.jwt' }, p, true),
      async (p) => token(await form({ client_id: 'someone-else' }), p, true),
    ]);
    await refusedUnrecorded('invalid_target', [
      async (p) => token(await form({ resource: 'https://elsewhere.example/mcp' }), p, true),
    ]);
    const proof = await fresh();
    expect((await token(await form(), proof, true)).status).toBe(200);
    const valid = await form();
    expect(await token(valid, proof, true)).toEqual(replayRefused);
    expect(await token(valid, await fresh(), true)).toMatchObject({
      status: 200,
      body: { token_type: 'DPoP' },
    });
  });

  it('jwt-bearer (workload): a refused request records nothing; a replayed proof leaves the assertion unused', async () => {
    const form = async (extra: Record<string, string> = {}) => ({
      grant_type: JWT_BEARER,
      assertion: await assertion({ iss: WORKLOAD, sub: 'job' }),
      ...extra,
    });
    await refusedUnrecorded('invalid_scope', [async (p) => token(await form({ scope: 'mcp:write' }), p)]);
    await refusedUnrecorded('invalid_grant', [
      async (p) => token(await form({ client_id: 'someone-else' }), p),
    ]);
    const proof = await fresh();
    expect((await token(await form(), proof)).status).toBe(200);
    const valid = await form();
    expect(await token(valid, proof)).toEqual(replayRefused);
    expect(await token(valid, await fresh())).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });
});
