import {
  constants,
  createHash,
  createPublicKey,
  verify as verifySignature,
  type JsonWebKey as NodeJwk,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { invalidDpopProof } from './errors.js';

/** JWK members that only a private or symmetric key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** How each accepted JWS algorithm verifies (RFC 7518 §3, RFC 8037), and which keys it takes. */
const ALGORITHMS: Record<
  string,
  { hash: string | null; key: (k: KeyObject) => boolean; pss?: number; ec?: true }
> = {
  ES256: { hash: 'sha256', ec: true, key: (k) => curve(k) === 'prime256v1' },
  ES384: { hash: 'sha384', ec: true, key: (k) => curve(k) === 'secp384r1' },
  RS256: { hash: 'sha256', key: (k) => rsa(k) },
  RS384: { hash: 'sha384', key: (k) => rsa(k) },
  RS512: { hash: 'sha512', key: (k) => rsa(k) },
  PS256: { hash: 'sha256', pss: 32, key: (k) => rsa(k) },
  PS384: { hash: 'sha384', pss: 48, key: (k) => rsa(k) },
  PS512: { hash: 'sha512', pss: 64, key: (k) => rsa(k) },
  EdDSA: { hash: null, key: (k) => k.asymmetricKeyType === 'ed25519' || k.asymmetricKeyType === 'ed448' },
};
const curve = (k: KeyObject) =>
  k.asymmetricKeyType === 'ec' ? k.asymmetricKeyDetails?.namedCurve : undefined;
const rsa = (k: KeyObject) =>
  k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;

/** The checked protected header of a proof, with its key ready to verify with. */
export interface ProofKey {
  alg: string;
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of `jwk`. */
  jkt: string;
  key: KeyObject;
}

/** base64url SHA-256 of a string (the `ath` of a token, replay-cache keys). */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

/**
 * Proof headers already checked, by their encoded form. A client sends the
 * same header (`typ`, `alg`, `jwk`) on every proof, so the JSON parse, the
 * header checks, the key import and the thumbprint happen once per key, not
 * per request. Bounded: at most `maxEntries`, the oldest dropped first.
 */
export class ProofKeyCache {
  private readonly entries = new Map<string, ProofKey>();

  constructor(
    private readonly algorithms: readonly string[],
    private readonly maxEntries = 10_000,
  ) {}

  /** How many headers are held (for tests of the bound). */
  get size(): number {
    return this.entries.size;
  }

  /** The checked header `encoded` (the proof's first segment), or a {@link invalidDpopProof} error. */
  async get(encoded: string): Promise<ProofKey> {
    const hit = this.entries.get(encoded);
    if (hit) return hit;
    const entry = await this.check(encoded);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(encoded, entry);
    return entry;
  }

  private async check(encoded: string): Promise<ProofKey> {
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalidDpopProof('DPoP proof is not a JWS');
    }
    if (typeof header !== 'object' || header === null) throw invalidDpopProof('DPoP proof is not a JWS');
    if (header.typ !== 'dpop+jwt') throw invalidDpopProof('DPoP proof typ must be dpop+jwt');
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.algorithms.includes(alg) || !ALGORITHMS[alg])
      throw invalidDpopProof('DPoP proof algorithm not allowed');
    // No extensions are understood (RFC 7515 §4.1.11), and the payload must be base64url (RFC 7797).
    if ('crit' in header || 'b64' in header) throw invalidDpopProof('DPoP proof header not supported');
    const jwk = header.jwk as JWK | undefined;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || typeof jwk.kty !== 'string')
      throw invalidDpopProof('DPoP proof has no jwk header');
    if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk))
      throw invalidDpopProof('DPoP proof jwk must be a public key');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as NodeJwk, format: 'jwk' });
    } catch {
      throw invalidDpopProof('DPoP proof jwk is not a usable key');
    }
    if (!ALGORITHMS[alg].key(key)) throw invalidDpopProof('DPoP proof jwk does not fit its algorithm');
    return { alg, jwk, key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
  }
}

/**
 * Whether `signature` (base64url) is `key`'s JWS signature over
 * `signingInput`: one native verify per request, run on libuv's thread pool
 * (the callback form of `crypto.verify`), as WebCrypto's is, so the event
 * loop keeps serving other requests meanwhile and a second core does the
 * signature math.
 */
export function jwsSignatureValid(key: ProofKey, signingInput: string, signature: string): Promise<boolean> {
  const a = ALGORITHMS[key.alg]!;
  const options = a.ec
    ? { key: key.key, dsaEncoding: 'ieee-p1363' as const }
    : a.pss
      ? { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: a.pss }
      : key.key;
  return new Promise((resolve) => {
    try {
      verifySignature(
        a.hash,
        Buffer.from(signingInput),
        options,
        Buffer.from(signature, 'base64url'),
        (err, valid) => resolve(!err && valid),
      );
    } catch {
      resolve(false);
    }
  });
}
