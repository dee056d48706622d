import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DpopNonces } from '../../src/dpop/nonce.js';
import { DpopProofVerifier, normalizeHtu } from '../../src/dpop/proof.js';
import { MemoryReplayCache } from '../../src/dpop/replay.js';
import { makeProof, proofKey, type ProofKey } from '../helpers/dpop.js';

const URL_ = 'https://rs.example.com/mcp';
const T0 = 1_800_000_000_000;
const now = (clock: ManualClock) => Math.floor(clock.now() / 1000);

let key: ProofKey;
beforeAll(async () => {
  key = await proofKey();
});

function setup(opts: { nonces?: boolean; maxEntries?: number } = {}) {
  const clock = new ManualClock(T0);
  const replay = new MemoryReplayCache({
    clock,
    ...(opts.maxEntries ? { maxEntries: opts.maxEntries } : {}),
  });
  const nonces = opts.nonces
    ? new DpopNonces({ secret: new Uint8Array(32).fill(7), clock, rotationSeconds: 60 })
    : undefined;
  const verifier = new DpopProofVerifier({
    clock,
    replay,
    maxAgeSeconds: 60,
    clockSkewSeconds: 5,
    ...(nonces ? { nonces } : {}),
  });
  return { clock, replay, nonces, verifier };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; description: string; nonce?: string }> {
  const err = (await p.catch((e: unknown) => e)) as { code: string; description: string; nonce?: string };
  expect(err).toMatchObject({ name: 'DpopError' });
  return err;
}

describe('rfc9449 §4.3: DPoP proof checks', () => {
  it('a good proof yields the RFC 7638 thumbprint of its key', async () => {
    const { clock, verifier } = setup();
    const proof = await makeProof(key, 'POST', URL_, { iat: now(clock) });
    const ok = await verifier.verify(proof, { method: 'POST', url: URL_ });
    expect(ok.jkt).toBe(await calculateJwkThumbprint(key.jwk, 'sha256'));
  });

  it('every algorithm advertised verifies (ES256, PS256, RS256, EdDSA)', async () => {
    const { clock, verifier } = setup();
    for (const alg of ['ES256', 'PS256', 'RS256', 'EdDSA']) {
      const k = await proofKey(alg);
      await expect(
        verifier.verify(await makeProof(k, 'GET', URL_, { iat: now(clock) }), { method: 'GET', url: URL_ }),
      ).resolves.toMatchObject({ jkt: expect.any(String) });
    }
  });

  it('htu is compared without query and fragment, scheme/host case and default port normalised', async () => {
    expect(normalizeHtu('HTTPS://RS.Example.com:443/mcp?x=1#f')).toBe('https://rs.example.com/mcp');
    expect(normalizeHtu('https://rs.example.com/a/../mcp')).toBe('https://rs.example.com/mcp');
    expect(normalizeHtu('https://rs.example.com/%7emcp')).toBe('https://rs.example.com/%7Emcp');
    expect(normalizeHtu('ftp://rs.example.com/mcp')).toBeUndefined();
    const { clock, verifier } = setup();
    const proof = await makeProof(key, 'GET', 'https://RS.example.com:443/mcp', { iat: now(clock) });
    await expect(verifier.verify(proof, { method: 'GET', url: `${URL_}?session=1` })).resolves.toBeTruthy();
  });

  const bad: [string, (c: ManualClock) => Promise<string>, string][] = [
    ['wrong typ', (c) => makeProof(key, 'GET', URL_, { iat: now(c), header: { typ: 'JWT' } }), 'typ'],
    ['wrong htm', (c) => makeProof(key, 'POST', URL_, { iat: now(c) }), 'htm'],
    ['wrong htu', (c) => makeProof(key, 'GET', 'https://rs.example.com/other', { iat: now(c) }), 'htu'],
    [
      'htu on another host',
      (c) => makeProof(key, 'GET', 'https://evil.example.com/mcp', { iat: now(c) }),
      'htu',
    ],
    ['iat too old', (c) => makeProof(key, 'GET', URL_, { iat: now(c) - 66 }), 'too old'],
    ['iat in the future', (c) => makeProof(key, 'GET', URL_, { iat: now(c) + 6 }), 'future'],
    ['no jti', (c) => makeProof(key, 'GET', URL_, { iat: now(c), claims: { jti: undefined } }), 'jti'],
    ['not a JWS', async () => 'not-a-jwt', 'JWS'],
    [
      'private key in jwk',
      async (c) => {
        const pair = await proofKey();
        const priv = await exportJWK(pair.privateKey);
        return makeProof(pair, 'GET', URL_, { iat: now(c), header: { jwk: priv } });
      },
      'public key',
    ],
    [
      'symmetric alg (HS256)',
      async (c) =>
        new SignJWT({ htm: 'GET', htu: URL_, jti: 'x', iat: now(c) })
          .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'AAAA' } } as never)
          .sign(new Uint8Array(32)),
      'algorithm',
    ],
    [
      'signed by another key than its jwk',
      async (c) => {
        const other = await proofKey();
        return makeProof({ ...other, jwk: key.jwk }, 'GET', URL_, { iat: now(c) });
      },
      'signature',
    ],
    ['no jwk', (c) => makeProof(key, 'GET', URL_, { iat: now(c), header: { jwk: undefined } }), 'jwk'],
  ];
  it.each(bad)('%s → invalid_dpop_proof', async (_name, build, why) => {
    const { clock, verifier } = setup();
    const err = await refusal(verifier.verify(await build(clock), { method: 'GET', url: URL_ }));
    expect(err.code).toBe('invalid_dpop_proof');
    expect(err.description).toContain(why);
  });

  it('ath: required and must be the access token hash when a token is presented', async () => {
    const { clock, verifier } = setup();
    const none = await makeProof(key, 'GET', URL_, { iat: now(clock) });
    expect(
      (await refusal(verifier.verify(none, { method: 'GET', url: URL_, accessToken: 'tok' }))).description,
    ).toContain('ath missing');
    const other = await makeProof(key, 'GET', URL_, { iat: now(clock), accessToken: 'another' });
    expect(
      (await refusal(verifier.verify(other, { method: 'GET', url: URL_, accessToken: 'tok' }))).description,
    ).toContain('ath does not match');
    const good = await makeProof(key, 'GET', URL_, { iat: now(clock), accessToken: 'tok' });
    await expect(
      verifier.verify(good, { method: 'GET', url: URL_, accessToken: 'tok' }),
    ).resolves.toBeTruthy();
  });

  it('jti is single-use within the window; a refused proof does not use it up', async () => {
    const { clock, verifier } = setup();
    const proof = await makeProof(key, 'GET', URL_, { iat: now(clock) });
    await refusal(verifier.verify(proof, { method: 'POST', url: URL_ }));
    await verifier.verify(proof, { method: 'GET', url: URL_ });
    const err = await refusal(verifier.verify(proof, { method: 'GET', url: URL_ }));
    expect(err).toMatchObject({
      code: 'invalid_dpop_proof',
      description: expect.stringContaining('already used'),
    });
  });
});

describe('rfc9449 §8/§9: server nonces', () => {
  it('missing or stale nonce → use_dpop_nonce with the current nonce; the current and previous slot are accepted', async () => {
    const { clock, verifier, nonces } = setup({ nonces: true });
    const missing = await refusal(
      verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), { method: 'GET', url: URL_ }),
    );
    expect(missing.code).toBe('use_dpop_nonce');
    const nonce = missing.nonce!;
    expect(nonce).toBe(await nonces!.current());
    await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock), nonce }), {
      method: 'GET',
      url: URL_,
    });
    clock.advance(60_000); // next slot: the previous nonce still passes
    await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock), nonce }), {
      method: 'GET',
      url: URL_,
    });
    clock.advance(60_000); // two slots later: stale
    const stale = await refusal(
      verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock), nonce }), {
        method: 'GET',
        url: URL_,
      }),
    );
    expect(stale).toMatchObject({ code: 'use_dpop_nonce', description: 'DPoP nonce stale' });
    expect(stale.nonce).not.toBe(nonce);
    const forged = await refusal(
      verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock), nonce: 'A'.repeat(43) }), {
        method: 'GET',
        url: URL_,
      }),
    );
    expect(forged.code).toBe('use_dpop_nonce');
  });

  it('instances with the same secret accept each other’s nonces; another secret does not', async () => {
    const clock = new ManualClock(T0);
    const a = new DpopNonces({ secret: new Uint8Array(32).fill(1), clock });
    const b = new DpopNonces({ secret: async () => new Uint8Array(32).fill(1), clock });
    const c = new DpopNonces({ secret: new Uint8Array(32).fill(2), clock });
    const n = await a.current();
    expect(await b.isValid(n)).toBe(true);
    expect(await c.isValid(n)).toBe(false);
  });
});

describe('replay cache bounds', () => {
  it('entries expire with the proof window, so memory follows the request rate', async () => {
    const { clock, verifier, replay } = setup();
    for (let i = 0; i < 5; i++)
      await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), {
        method: 'GET',
        url: URL_,
      });
    expect(replay.size).toBe(5);
    clock.advance(70_000);
    await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), {
      method: 'GET',
      url: URL_,
    });
    expect(replay.size).toBe(1);
  });

  it('a full cache refuses new proofs rather than forgetting a live jti', async () => {
    const { clock, verifier, replay } = setup({ maxEntries: 3 });
    for (let i = 0; i < 3; i++)
      await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), {
        method: 'GET',
        url: URL_,
      });
    const err = await refusal(
      verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), { method: 'GET', url: URL_ }),
    );
    expect(err.code).toBe('invalid_dpop_proof');
    expect(replay.size).toBe(3);
    clock.advance(70_000);
    await verifier.verify(await makeProof(key, 'GET', URL_, { iat: now(clock) }), {
      method: 'GET',
      url: URL_,
    });
  });
});
