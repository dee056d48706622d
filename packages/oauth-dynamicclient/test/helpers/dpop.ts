import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenHash } from '../../src/dpop/proof.js';

/** A DPoP key pair as a client holds it: the private key and the public JWK it puts in proofs. */
export interface ProofKey {
  /** The pair, for `oauth4webapi.DPoP(client, pair)`. */
  pair: CryptoKeyPair;
  privateKey: CryptoKey;
  jwk: JWK;
  alg: string;
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return {
    pair: pair,
    privateKey: pair.privateKey,
    jwk: await exportJWK(pair.publicKey),
    alg,
  };
}

/**
 * A DPoP proof (RFC 9449 §4.2) for `htm` and `htu`; `claims` and `header`
 * override what a well-behaved client would send (tests for bad proofs).
 */
export async function makeProof(
  key: ProofKey,
  htm: string,
  htu: string,
  opts: {
    accessToken?: string;
    nonce?: string;
    iat?: number;
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
  } = {},
): Promise<string> {
  return new SignJWT({
    htm,
    htu,
    jti: crypto.randomUUID(),
    iat: opts.iat ?? Math.floor(Date.now() / 1000),
    ...(opts.accessToken ? { ath: await accessTokenHash(opts.accessToken) } : {}),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...opts.claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...opts.header })
    .sign(key.privateKey);
}
