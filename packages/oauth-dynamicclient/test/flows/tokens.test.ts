import { base64url, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { cryptoIds } from '../../src/ids.js';
import { MemoryStore } from '../../src/store/index.js';
import { AccessTokenIssuer } from '../../src/tokens/access-token.js';
import { InsufficientScopeError, InvalidTokenError } from '../../src/tokens/errors.js';
import { KeyManager } from '../../src/tokens/keys.js';
import { RefreshTokens } from '../../src/tokens/refresh.js';
import { RevocationList } from '../../src/tokens/revocation.js';
import { AccessTokenVerifier } from '../../src/tokens/verifier.js';

const ISS = 'https://as.example.test';
const RES = 'https://mcp.example.test/mcp';

function setup(opts: { alg?: 'ES256' | 'RS256' } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 10, 22));
  const store = new MemoryStore({ clock });
  const keys = new KeyManager({ store, clock, alg: opts.alg, retainRetiredMs: 3_600_000 + 60_000 });
  const revocations = new RevocationList(store, clock);
  const issuer = new AccessTokenIssuer({ issuer: ISS, keys, clock, ids: cryptoIds, ttlSeconds: 3600 });
  const verifier = new AccessTokenVerifier({
    issuer: ISS,
    clock,
    key: async (h) => {
      const k = await keys.verificationKey(h.kid ?? '');
      return k && k.alg === h.alg ? k.key : undefined;
    },
    isRevoked: (jti, fid) => revocations.isRevoked(jti, fid),
  });
  const refresh = new RefreshTokens({
    store,
    clock,
    ids: cryptoIds,
    revocations,
    ttlMs: 30 * 86_400_000,
    accessTokenTtlMs: 3_600_000,
  });
  const issue = (scopes = ['mcp:read', 'mcp:write']) =>
    issuer.issue({
      sub: 'github:1',
      clientId: 'c1',
      resource: RES,
      scopes,
      familyId: 'fam-1',
      login: 'octocat',
      name: 'Octo',
    });
  return { clock, store, keys, revocations, issuer, verifier, refresh, issue };
}

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTokenError);
  return (err as InvalidTokenError).reason;
}

describe('rfc9068 access tokens', () => {
  it('rfc9068: header typ at+jwt and kid; claims iss, sub, aud, client_id, scope, iat, exp, jti, login, name', async () => {
    const { issue, keys } = setup();
    const { token } = await issue();
    const [h, p] = token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(new TextDecoder().decode(base64url.decode(s))) as Record<string, unknown>);
    expect(h).toEqual({ alg: 'ES256', kid: (await keys.jwks()).keys[0]!.kid, typ: 'at+jwt' });
    expect(Object.keys(p!).sort()).toEqual(
      ['aud', 'client_id', 'exp', 'fid', 'iat', 'iss', 'jti', 'login', 'name', 'scope', 'sub'].sort(),
    );
    expect(p).toMatchObject({
      iss: ISS,
      sub: 'github:1',
      aud: RES,
      client_id: 'c1',
      scope: 'mcp:read mcp:write',
    });
    expect((p!.exp as number) - (p!.iat as number)).toBe(3600);
  });

  it('RS256 option signs with RS256', async () => {
    const { issue, verifier } = setup({ alg: 'RS256' });
    const { token } = await issue();
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))).alg).toBe('RS256');
    expect((await verifier.verify(token, { resource: RES })).sub).toBe('github:1');
  });

  it('audience: canonical match (case of scheme/host, trailing slash); another resource is refused', async () => {
    const { issue, verifier } = setup();
    const { token } = await issue();
    expect((await verifier.verify(token, { resource: 'HTTPS://MCP.Example.TEST/mcp/' })).clientId).toBe('c1');
    expect(await reason(verifier.verify(token, { resource: 'https://mcp.example.test/other' }))).toBe(
      'audience',
    );
  });

  it('exp: accepted within the skew, refused after it (also when cached)', async () => {
    const { issue, verifier, clock } = setup();
    const { token } = await issue();
    await verifier.verify(token, { resource: RES });
    clock.advance(3600_000 + 5_000);
    await verifier.verify(token, { resource: RES });
    clock.advance(10_000);
    expect(await reason(verifier.verify(token, { resource: RES }))).toBe('expired');
  });

  it('alg none, HS256 signed with the public key (confusion), and unknown keys are refused', async () => {
    const { issue, verifier, keys } = setup({ alg: 'RS256' });
    const { token } = await issue();
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as Record<
      string,
      unknown
    >;
    const none = new UnsecuredJWT(payload).encode();
    expect(await reason(verifier.verify(none, { resource: RES }))).toBe('algorithm');
    const pub = (await keys.jwks()).keys[0]!;
    const hs = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', kid: pub.kid!, typ: 'at+jwt' })
      .sign(new TextEncoder().encode(JSON.stringify(pub)));
    expect(await reason(verifier.verify(hs, { resource: RES }))).toBe('algorithm');
    const rogue = await generateKeyPair('RS256');
    const forged = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: pub.kid!, typ: 'at+jwt' })
      .sign(rogue.privateKey);
    expect(await reason(verifier.verify(forged, { resource: RES }))).toBe('signature');
    const other = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: 'nope', typ: 'at+jwt' })
      .sign(rogue.privateKey);
    expect(await reason(verifier.verify(other, { resource: RES }))).toBe('unknown_key');
    // ES256 header on an RS256 kid: the key's algorithm is bound to its kid.
    const es = await generateKeyPair('ES256');
    const mismatch = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: pub.kid!, typ: 'at+jwt' })
      .sign(es.privateKey);
    expect(await reason(verifier.verify(mismatch, { resource: RES }))).toBe('unknown_key');
  });

  it('tampered payload, wrong typ, wrong issuer and garbage are refused', async () => {
    const { issue, verifier, keys } = setup();
    const { token } = await issue();
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!))) as Record<string, unknown>;
    const tampered = `${h}.${base64url.encode(JSON.stringify({ ...claims, scope: 'admin' }))}.${s}`;
    expect(await reason(verifier.verify(tampered, { resource: RES }))).toBe('signature');
    expect(await reason(verifier.verify('not.a.jwt', { resource: RES }))).toBe('malformed');
    expect(await reason(verifier.verify('x'.repeat(9000), { resource: RES }))).toBe('malformed');

    const signing = await keys.signingKey();
    const idToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'JWT' })
      .sign(signing.key);
    expect(await reason(verifier.verify(idToken, { resource: RES }))).toBe('type');
    const evil = await new SignJWT({ ...claims, iss: 'https://evil.test' })
      .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: 'at+jwt' })
      .sign(signing.key);
    expect(await reason(verifier.verify(evil, { resource: RES }))).toBe('issuer');
  });

  it('scopes: every required scope must be granted, else insufficient_scope (403)', async () => {
    const { issue, verifier } = setup();
    const { token } = await issue(['mcp:read']);
    await verifier.verify(token, { resource: RES, scopes: ['mcp:read'] });
    const err = await verifier
      .verify(token, { resource: RES, scopes: ['mcp:read', 'mcp:write'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientScopeError);
    expect((err as InsufficientScopeError).status).toBe(403);
    expect((err as InsufficientScopeError).required).toEqual(['mcp:read', 'mcp:write']);
    expect((err as InsufficientScopeError).granted).toEqual(['mcp:read']);
    expect((err as InsufficientScopeError).challengeScopes).toEqual(['mcp:read', 'mcp:write']);
  });

  it('revocation by jti and by family applies to cached tokens at once', async () => {
    const { issue, verifier, revocations } = setup();
    const a = await issue();
    await verifier.verify(a.token, { resource: RES });
    await revocations.revokeToken(a.jti, a.exp);
    expect(await reason(verifier.verify(a.token, { resource: RES }))).toBe('revoked');
    const b = await issue();
    await verifier.verify(b.token, { resource: RES });
    await revocations.revokeFamily('fam-1', 3_600_000);
    expect(await reason(verifier.verify(b.token, { resource: RES }))).toBe('revoked');
  });
});

describe('signing keys', () => {
  it('generated once and persisted: a second manager on the same store uses the same key', async () => {
    const { store, clock, keys, issue } = setup();
    const { token } = await issue();
    const again = new KeyManager({ store, clock, retainRetiredMs: 1 });
    expect((await again.jwks()).keys).toEqual((await keys.jwks()).keys);
    const verifier = new AccessTokenVerifier({
      issuer: ISS,
      clock,
      key: async (h) => (await again.verificationKey(h.kid!))?.key,
    });
    expect((await verifier.verify(token, { resource: RES })).sub).toBe('github:1');
  });

  it('concurrent first start on one store creates exactly one key', async () => {
    const { store, clock } = setup();
    const managers = Array.from({ length: 5 }, () => new KeyManager({ store, clock, retainRetiredMs: 1 }));
    const sets = await Promise.all(managers.map((m) => m.jwks()));
    expect(new Set(sets.map((s) => s.keys[0]!.kid)).size).toBe(1);
  });

  it('rotation: new tokens use the new kid; old public key stays in the JWKS until its tokens expired', async () => {
    const { keys, issue, verifier, clock } = setup();
    const old = await issue();
    const oldKid = (await keys.jwks()).keys[0]!.kid;
    const newKid = await keys.rotate();
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    const fresh = await issue();
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(fresh.token.split('.')[0]!))).kid).toBe(
      newKid,
    );
    verifier.clearCache();
    await verifier.verify(old.token, { resource: RES });
    clock.advance(3_600_000 + 61_000);
    await keys.rotate();
    expect((await keys.jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
  });

  it('the JWKS holds public keys only', async () => {
    const { keys } = setup({ alg: 'RS256' });
    const jwk = (await keys.jwks()).keys[0]!;
    expect(jwk.d).toBeUndefined();
    expect(jwk.p).toBeUndefined();
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    const pub = await exportJWK((await generateKeyPair('ES256')).publicKey);
    expect(pub.d).toBeUndefined();
  });
});

describe('refresh token families', () => {
  const base = {
    familyId: 'fam-1',
    grantId: 'g1',
    clientId: 'c1',
    sub: 'github:1',
    resource: RES,
    scopes: ['mcp:read', 'mcp:write'],
  };

  it('rotation: each use returns a new token; the family keeps its audience and scopes', async () => {
    const { refresh } = setup();
    const r1 = await refresh.issue(base);
    const a = await refresh.rotate(r1, 'c1');
    expect(a.refreshToken).not.toBe(r1);
    expect(a.record).toMatchObject({ resource: RES, scopes: base.scopes, familyId: 'fam-1' });
    const b = await refresh.rotate(a.refreshToken, 'c1');
    expect(b.repeated).toBe(false);
  });

  it('grace window: a retry with the used token gets the same successor', async () => {
    const { refresh, clock } = setup();
    const r1 = await refresh.issue(base);
    const a = await refresh.rotate(r1, 'c1');
    clock.advance(29_000);
    const again = await refresh.rotate(r1, 'c1');
    expect(again).toMatchObject({ refreshToken: a.refreshToken, repeated: true });
  });

  it('concurrent refreshes with one token all get the same successor', async () => {
    const { refresh } = setup();
    const r1 = await refresh.issue(base);
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh.rotate(r1, 'c1')));
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
    expect(results.filter((r) => !r.repeated)).toHaveLength(1);
  });

  it('reuse after the grace window revokes the family: successor and access tokens die', async () => {
    const { store, clock, revocations } = setup();
    const reused: string[] = [];
    const refresh = new RefreshTokens({
      store,
      clock,
      ids: cryptoIds,
      revocations,
      ttlMs: 86_400_000,
      accessTokenTtlMs: 3_600_000,
      onReuse: (r) => reused.push(r.familyId),
    });
    const r1 = await refresh.issue(base);
    const a = await refresh.rotate(r1, 'c1');
    clock.advance(31_000);
    await expect(refresh.rotate(r1, 'c1')).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh.rotate(a.refreshToken, 'c1')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await revocations.isFamilyRevoked('fam-1')).toBe(true);
    expect(reused).toEqual(['fam-1']);
  });

  it("another client's refresh token is invalid_grant and is not consumed", async () => {
    const { refresh } = setup();
    const r1 = await refresh.issue(base);
    await expect(refresh.rotate(r1, 'c2')).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await refresh.rotate(r1, 'c1')).repeated).toBe(false);
  });

  it('unknown and expired tokens are invalid_grant', async () => {
    const { refresh, clock } = setup();
    await expect(refresh.rotate('garbage', 'c1')).rejects.toMatchObject({ error: 'invalid_grant' });
    const r1 = await refresh.issue(base);
    clock.advance(31 * 86_400_000);
    await expect(refresh.rotate(r1, 'c1')).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
