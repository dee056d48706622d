import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { ProofKeyCache } from '../../src/dpop/proof-key.js';
import { dpopAlgorithms } from '../../src/dpop/proof.js';

const encode = (header: unknown) => Buffer.from(JSON.stringify(header)).toString('base64url');

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = (await p.catch((e: unknown) => e)) as { name: string; description: string };
  expect(err.name).toBe('DpopError');
  return err.description;
}

describe('rfc9449 §4.3 proof headers: checked once per key, bounded', () => {
  it('a key that does not fit its alg, a crit header, a private key, an unknown alg are refused', async () => {
    const cache = new ProofKeyCache(dpopAlgorithms);
    const p384 = await exportJWK((await generateKeyPair('ES384')).publicKey);
    const p256 = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(p256.publicKey);
    expect(await refusal(cache.get(encode({ typ: 'dpop+jwt', alg: 'ES256', jwk: p384 })))).toContain(
      'does not fit',
    );
    expect(
      await refusal(cache.get(encode({ typ: 'dpop+jwt', alg: 'ES256', jwk: pub, crit: ['x'], x: 1 }))),
    ).toContain('not supported');
    expect(
      await refusal(
        cache.get(encode({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(p256.privateKey) })),
      ),
    ).toContain('public key');
    expect(await refusal(cache.get(encode({ typ: 'dpop+jwt', alg: 'HS256', jwk: pub })))).toContain(
      'algorithm',
    );
    expect(await refusal(cache.get(encode({ typ: 'jwt', alg: 'ES256', jwk: pub })))).toContain('typ');
    expect(await refusal(cache.get('not-json'))).toContain('not a JWS');
  });

  it('the same header is one entry; at most maxEntries are held, the oldest dropped', async () => {
    const cache = new ProofKeyCache(dpopAlgorithms, 2);
    const headers = await Promise.all(
      [0, 1, 2].map(async () =>
        encode({
          typ: 'dpop+jwt',
          alg: 'ES256',
          jwk: await exportJWK((await generateKeyPair('ES256')).publicKey),
        }),
      ),
    );
    const first = await cache.get(headers[0]!);
    expect(await cache.get(headers[0]!)).toBe(first);
    await cache.get(headers[1]!);
    await cache.get(headers[2]!);
    expect(cache.size).toBe(2);
    expect(await cache.get(headers[0]!)).not.toBe(first);
  });
});
