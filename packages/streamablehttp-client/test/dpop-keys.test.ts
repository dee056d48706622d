// RFC 9449 keys of the client: the algorithm follows the authorization server's
// `dpop_signing_alg_values_supported`, and every key it can make survives storage (the private
// JWK) and signs proofs the authorization server's library (jose) accepts.
import { compactVerify, importJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { createDPoPKey, DPOP_ALGS, dpopAlgorithm, dpopWanted, importDPoPKey } from '../src/oauth/dpop.js';

describe('dpop key algorithm', () => {
  it('the first algorithm of ours the server lists; ES256 when it lists none; none when it lists only others', () => {
    const as = (algs?: string[]) => ({ dpop_signing_alg_values_supported: algs });
    expect(dpopAlgorithm(as(['EdDSA', 'RS256', 'ES384']))).toBe('ES384');
    expect(dpopAlgorithm(as(['PS256']))).toBe('PS256');
    expect(dpopAlgorithm(as(undefined))).toBe('ES256');
    expect(dpopAlgorithm(as(['EdDSA']))).toBeUndefined();
    // Auto mode: DPoP when the server lists an algorithm this client can make a key for.
    expect([
      dpopWanted(undefined, as(['ES512'])),
      dpopWanted(undefined, as(['EdDSA'])),
      dpopWanted(undefined, as()),
    ]).toEqual([true, false, false]);
  });

  it.each(DPOP_ALGS)(
    '%s: a stored key signs a proof jose verifies with the public JWK of its header',
    async (alg) => {
      const stored = await createDPoPKey(alg);
      expect(stored.alg).toBe(alg);
      const pair = await importDPoPKey(JSON.parse(JSON.stringify(stored)));
      expect(pair.privateKey.extractable).toBe(false);
      let proof = '';
      const handle = oauth.DPoP({}, pair);
      // A token request through oauth4webapi carries the proof in the DPoP header.
      await oauth
        .clientCredentialsGrantRequest(
          { issuer: 'http://127.0.0.1:9', token_endpoint: 'http://127.0.0.1:9/token' },
          { client_id: 'c' },
          oauth.None(),
          new URLSearchParams(),
          {
            DPoP: handle,
            [oauth.allowInsecureRequests]: true,
            [oauth.customFetch]: async (_url, init) => {
              proof = new Headers(init.headers).get('dpop') ?? '';
              return Response.json({ error: 'invalid_client' }, { status: 400 });
            },
          },
        )
        .catch(() => undefined);
      const header = JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()) as {
        alg: string;
        jwk: Record<string, unknown>;
      };
      expect(header.alg).toBe(alg);
      expect(header.jwk).not.toHaveProperty('d');
      await expect(compactVerify(proof, await importJWK(header.jwk, alg))).resolves.toBeTruthy();
    },
  );
});
