import { listen, type Listening } from '@mcp-gateway/testkit';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatches } from '../../src/grants/workload-options.js';
import { makeProof, proofKey } from '../helpers/dpop.js';
import { startAs, type TestAs } from './helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const insecure = { [oauth.allowInsecureRequests]: true };
const SECRET = 'wif-confidential-secret-0123456789';

interface Signer {
  key: CryptoKey;
  jwk: JWK & { kty: string };
}
async function signer(alg = 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { key: privateKey, jwk: { ...jwk, kty: jwk.kty!, kid: crypto.randomUUID(), alg } };
}

/** A workload JWT as a platform issues it; `claims` override or (undefined) drop the defaults. */
async function workloadJwt(
  s: Signer,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const body = Object.fromEntries(
    Object.entries({ iat: now, exp: now + 120, jti: crypto.randomUUID(), ...claims }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return new SignJWT(body).setProtectedHeader({ alg: 'ES256', kid: s.jwk.kid, ...header }).sign(s.key);
}

/** An unsigned (`alg: none`) or HS256 JWT, which no workload issuer's keys can verify. */
function unsecuredJwt(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(claims)}.`;
}

async function token(t: TestAs, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: JWT_BEARER, ...form }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('rfc7523 jwt-bearer grant with workload JWTs (workload identity federation, SEP-1933)', () => {
  const ISSUER = 'https://ci.example/workloads';
  let jwks: Listening;
  let idp: Signer;
  let stranger: Signer;
  let t: TestAs;
  let base: Record<string, unknown>;
  const issued = () => t.audit.filter((r) => r.type === 'token.issued').length;

  beforeAll(async () => {
    idp = await signer();
    stranger = await signer();
    jwks = await listen(() => Response.json({ keys: [idp.jwk] }));
    t = await startAs({
      grants: { jwtBearer: true },
      remoteJwks: { allowLoopback: true },
      workloadIssuers: [
        {
          issuer: ISSUER,
          jwksUri: `${jwks.url}/jwks`,
          subjects: [
            { subject: 'system:serviceaccount:prod:indexer', clientId: 'indexer' },
            { subjectGlob: 'repo:acme/*:ref:refs/heads/main', clientId: 'deployer', scope: 'mcp:read' },
          ],
        },
        {
          issuer: 'https://static.example',
          jwks: { keys: [stranger.jwk] },
          audience: 'urn:mcp:gateway',
          algorithms: ['ES256'],
          subjects: [{ subject: 'batch', clientId: 'indexer' }],
        },
      ],
      staticClients: [
        { client_id: 'indexer', token_endpoint_auth_method: 'none', grant_types: [JWT_BEARER] },
        { client_id: 'deployer', client_secret: SECRET, grant_types: [JWT_BEARER] },
      ],
    });
    base = { iss: ISSUER, sub: 'system:serviceaccount:prod:indexer', aud: t.url };
  });
  afterAll(async () => {
    await t.close();
    await jwks.close();
  });

  it('rfc7523 §2.1: oauth4webapi gets a token for the mapped client and the workload subject, no refresh token', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(t.url),
      await oauth.discoveryRequest(new URL(t.url), insecure),
    );
    expect(as.grant_types_supported).toContain(JWT_BEARER);
    const client = { client_id: 'indexer' };
    const res = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.None(),
      JWT_BEARER,
      { assertion: await workloadJwt(idp, base) },
      insecure,
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.token_type).toBe('bearer');
    const verified = await t.as.verifyAccessToken(tokens.access_token, { resource: t.resource });
    expect(verified.sub).toBe(`workload:${ISSUER}#system:serviceaccount:prod:indexer`);
    expect(verified.clientId).toBe('indexer');
    expect(verified.scopes).toEqual(['mcp:read', 'mcp:write']);
  });

  it('rfc7523 §3: aud may be the token endpoint; no client_id needed (the assertion is the credential)', async () => {
    const res = await token(t, { assertion: await workloadJwt(idp, { ...base, aud: `${t.url}/token` }) });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).client_id).toBe('indexer');
  });

  it('subject glob maps to its client, the scope ceiling applies, credentials must be that client', async () => {
    const sub = 'repo:acme/site:ref:refs/heads/main';
    const basic = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    const ok = await token(
      t,
      { assertion: await workloadJwt(idp, { ...base, sub }) },
      basic('deployer', SECRET),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.scope).toBe('mcp:read');
    const wider = await token(t, { assertion: await workloadJwt(idp, { ...base, sub }), scope: 'mcp:write' });
    expect(wider).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const wrongSecret = await token(
      t,
      { assertion: await workloadJwt(idp, { ...base, sub }) },
      basic('deployer', 'nope-nope-nope'),
    );
    expect(wrongSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const otherClient = await token(t, { assertion: await workloadJwt(idp, base), client_id: 'deployer' });
    expect(otherClient).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('static keys with a configured audience and algorithm list', async () => {
    const claims = { iss: 'https://static.example', sub: 'batch', aud: 'urn:mcp:gateway' };
    expect((await token(t, { assertion: await workloadJwt(stranger, claims) })).status).toBe(200);
    const defaultAud = await token(t, { assertion: await workloadJwt(stranger, { ...claims, aud: t.url }) });
    expect(defaultAud).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('rfc7523 §3 / §3.1: every bad assertion is invalid_grant and issues nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const replayed = await workloadJwt(idp, base);
    expect((await token(t, { assertion: replayed })).status).toBe(200);
    const cases: [string, string | Promise<string>][] = [
      ['wrong iss', workloadJwt(idp, { ...base, iss: 'https://evil.example' })],
      ['wrong aud', workloadJwt(idp, { ...base, aud: 'https://other-as.example' })],
      ['expired', workloadJwt(idp, { ...base, iat: now - 200, exp: now - 100 })],
      ['too long a lifetime', workloadJwt(idp, { ...base, exp: now + 3600 })],
      ['not yet valid', workloadJwt(idp, { ...base, nbf: now + 600 })],
      ['no exp', workloadJwt(idp, { ...base, exp: undefined })],
      ['no jti', workloadJwt(idp, { ...base, jti: undefined })],
      ['no sub', workloadJwt(idp, { ...base, sub: undefined })],
      ['replayed jti', replayed],
      ['unknown subject', workloadJwt(idp, { ...base, sub: 'system:serviceaccount:prod:intruder' })],
      ['bad signature', workloadJwt(stranger, base, { kid: idp.jwk.kid })],
      ['alg none', unsecuredJwt({ ...base, exp: now + 60, jti: 'x' })],
      [
        'HS256',
        new SignJWT({ ...base, jti: 'h' })
          .setProtectedHeader({ alg: 'HS256', kid: idp.jwk.kid })
          .setExpirationTime('1m')
          .sign(new TextEncoder().encode('a-shared-secret-anyone-could-guess')),
      ],
      ['not a JWT', 'garbage'],
    ];
    const before = issued();
    for (const [why, jwt] of cases) {
      const res = await token(t, { assertion: await jwt });
      expect([why, res.status, res.body.error]).toEqual([why, 400, 'invalid_grant']);
      expect(res.body.access_token).toBeUndefined();
    }
    expect(before).toBeGreaterThan(0);
    expect(issued()).toBe(before);
  });

  it('rfc9449 §5: a DPoP proof on the jwt-bearer request binds the token (cnf.jkt)', async () => {
    const key = await proofKey();
    const proof = await makeProof(key, 'POST', `${t.url}/token`);
    const res = await token(t, { assertion: await workloadJwt(idp, base) }, { dpop: proof });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const { calculateJwkThumbprint } = await import('jose');
    const claims = decodeJwt(res.body.access_token as string) as { cnf?: { jkt?: string } };
    expect(claims.cnf?.jkt).toBe(await calculateJwkThumbprint(key.jwk));
    const badProof = await token(
      t,
      { assertion: await workloadJwt(idp, base) },
      { dpop: await makeProof(key, 'POST', `${t.url}/elsewhere`) },
    );
    expect(badProof).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } });
  });

  it('conformance auth/wif-jwt-bearer: a public client_id, no typ, aud = the AS URL with a slash', async () => {
    const res = await token(t, {
      assertion: await workloadJwt(idp, { ...base, aud: `${t.url}/` }),
      client_id: 'indexer',
      resource: t.resource,
    });
    expect(res.status).toBe(200);
  });
});

describe('workload subject globs', () => {
  it('* matches any run of characters, the rest is literal and anchored', () => {
    expect(globMatches('repo:acme/*:ref:refs/heads/main', 'repo:acme/x/y:ref:refs/heads/main')).toBe(true);
    expect(globMatches('repo:acme/*:ref:refs/heads/main', 'repo:acme/x:ref:refs/heads/main2')).toBe(false);
    expect(globMatches('a*b*c', 'abc')).toBe(true);
    expect(globMatches('a*b*c', 'xabc')).toBe(false);
    expect(globMatches('a.c', 'abc')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('ns:*', 'ns:')).toBe(true);
    expect(globMatches(`${'*a'.repeat(20)}`, `${'a'.repeat(200)}b`)).toBe(false);
  });
});
