import type { JWTPayload } from 'jose';
import { epochSeconds, systemClock, type Clock } from '../clock.js';
import { DpopError, invalidDpopProof } from './errors.js';
import { jwsSignatureValid, ProofKeyCache, sha256 } from './proof-key.js';
import type { DpopNonces } from './nonce.js';
import { MemoryReplayCache, type ReplayCache } from './replay.js';

/** JWS algorithms accepted for DPoP proofs (asymmetric only; RFC 9449 §4.2), as advertised in metadata. */
export const dpopAlgorithms = [
  'ES256',
  'ES384',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
];

/** Longest proof accepted (a proof with an RSA-4096 `jwk` is about 1.5 kB). */
const MAX_PROOF_LENGTH = 8192;

/** What a proof must match. */
export interface DpopRequest {
  /** The request's method (`htm`), e.g. `POST`. */
  method: string;
  /** The request's URL as the client addressed it (`htu`); query and fragment are ignored. */
  url: string | URL;
  /** At a resource: the access token, whose hash the proof's `ath` must be. */
  accessToken?: string;
}

/** A proof that passed every check. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key (`cnf.jkt`). */
  jkt: string;
  jti: string;
  iat: number;
}

/** Options of {@link DpopProofVerifier}. */
export interface DpopProofVerifierOptions {
  clock?: Clock;
  /** Accepted algorithms (default {@link dpopAlgorithms}; symmetric ones are dropped). */
  algorithms?: string[];
  /** A proof is accepted for this long after its `iat`, seconds (default 60). */
  maxAgeSeconds?: number;
  /** Clock skew allowed on `iat` (either way), seconds (default 10). */
  clockSkewSeconds?: number;
  /** Where seen `jti`s are remembered (default: a bounded in-memory cache). */
  replay?: ReplayCache;
  /** Server nonces to require (RFC 9449 §8/§9); absent = nonces are not used. */
  nonces?: DpopNonces;
}

/**
 * The `htu` form of a URL (RFC 9449 §4.3 with RFC 3986 §6.2.2 normalisation):
 * scheme and host lower-cased, default port dropped, dot segments removed,
 * percent-escapes upper-cased, query and fragment removed. `undefined` for
 * anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string | URL): string | undefined {
  let u: URL;
  try {
    u = typeof value === 'string' ? new URL(value) : value;
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  const path = u.pathname.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
  return `${u.protocol}//${u.host}${path}`;
}

/** `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2). */
export async function accessTokenHash(token: string): Promise<string> {
  return Promise.resolve(sha256(token));
}

/** The one DPoP header of a request; several (joined by `,`) or an oversized one are refused. */
export function singleProof(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  if (header.includes(',') || header.length > MAX_PROOF_LENGTH)
    throw invalidDpopProof('exactly one DPoP proof is expected');
  return header.trim();
}

/**
 * Verifies DPoP proofs (RFC 9449 §4.3): `typ: dpop+jwt`, an allowed
 * asymmetric `alg`, a public `jwk` header that the signature verifies with,
 * `htm` and `htu` of this request, `iat` within `maxAgeSeconds` (plus skew),
 * `jti` used once within that window, `ath` of the access token at a
 * resource, and the server nonce when nonces are on. Failures throw
 * {@link DpopError}.
 */
export class DpopProofVerifier {
  readonly algorithms: string[];
  private readonly clock: Clock;
  private readonly maxAge: number;
  private readonly skew: number;
  private readonly replay: ReplayCache;
  private readonly keys: ProofKeyCache;
  readonly nonces: DpopNonces | undefined;

  constructor(options: DpopProofVerifierOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.algorithms = (options.algorithms ?? dpopAlgorithms).filter((a) => dpopAlgorithms.includes(a));
    this.maxAge = options.maxAgeSeconds ?? 60;
    this.skew = options.clockSkewSeconds ?? 10;
    this.replay = options.replay ?? new MemoryReplayCache({ clock: this.clock });
    this.nonces = options.nonces;
    this.keys = new ProofKeyCache(this.algorithms);
  }

  /**
   * Checks `proof` (the `DPoP` header value) for `request` and records its
   * `jti` ({@link check} then {@link recordUse}). At a resource, prefer
   * checking, verifying the token, then recording (`verifyPresentation`), so
   * a proof for a token that is refused leaves nothing in the replay cache.
   */
  async verify(proof: string, request: DpopRequest): Promise<VerifiedDpopProof> {
    const checked = await this.check(proof, request);
    await this.recordUse(checked);
    return checked;
  }

  /**
   * Every check of {@link verify} but the replay one, without writing
   * anything: per request a cache lookup of the header (parsed, checked and
   * imported once per key, `proof-key.ts`), one native signature check (on
   * the thread pool), one JSON parse of the claims, and the nonce check.
   * Follow with {@link recordUse} before granting anything.
   */
  async check(proof: string, request: DpopRequest): Promise<VerifiedDpopProof> {
    const dot1 = proof.indexOf('.');
    const dot2 = proof.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || proof.indexOf('.', dot2 + 1) !== -1)
      throw invalidDpopProof('DPoP proof is not a JWS');
    const key = await this.keys.get(proof.slice(0, dot1));
    if (!(await jwsSignatureValid(key, proof.slice(0, dot2), proof.slice(dot2 + 1))))
      throw invalidDpopProof('DPoP proof signature or claims invalid');
    let payload: JWTPayload;
    try {
      payload = JSON.parse(
        Buffer.from(proof.slice(dot1 + 1, dot2), 'base64url').toString('utf8'),
      ) as JWTPayload;
    } catch {
      throw invalidDpopProof('DPoP proof signature or claims invalid');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw invalidDpopProof('DPoP proof signature or claims invalid');
    await this.checkClaims(payload, request);
    if (this.nonces && !(await this.nonces.isValid(payload.nonce))) {
      const nonce = await this.nonces.current();
      throw new DpopError(
        'use_dpop_nonce',
        payload.nonce === undefined ? 'a DPoP nonce is required' : 'DPoP nonce stale',
        nonce,
      );
    }
    return { jkt: key.jkt, jti: payload.jti as string, iat: payload.iat! };
  }

  /**
   * Records the `jti` of a proof that passed {@link check} for the proof
   * window (one store or cache entry).
   *
   * @throws DpopError `invalid_dpop_proof` when it was used before.
   */
  async recordUse(proof: VerifiedDpopProof): Promise<void> {
    if (!(await this.replay.firstUse(`dpop:${proof.jkt}`, proof.jti, proof.iat + this.maxAge + this.skew)))
      throw invalidDpopProof('DPoP proof already used (jti)');
  }

  private async checkClaims(payload: JWTPayload, request: DpopRequest): Promise<void> {
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256)
      throw invalidDpopProof('DPoP proof jti missing or invalid');
    if (payload.htm !== request.method) throw invalidDpopProof('DPoP proof htm does not match the request');
    const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined;
    if (htu === undefined || htu !== normalizeHtu(request.url))
      throw invalidDpopProof('DPoP proof htu does not match the request');
    const now = epochSeconds(this.clock.now());
    if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat))
      throw invalidDpopProof('DPoP proof iat missing');
    if (payload.iat > now + this.skew) throw invalidDpopProof('DPoP proof iat is in the future');
    if (payload.iat < now - this.maxAge - this.skew) throw invalidDpopProof('DPoP proof is too old');
    if (typeof payload.exp === 'number' && payload.exp <= now - this.skew)
      throw invalidDpopProof('DPoP proof expired');
    if (typeof payload.nbf === 'number' && payload.nbf > now + this.skew)
      throw invalidDpopProof('DPoP proof not yet valid');
    if (request.accessToken !== undefined) {
      if (typeof payload.ath !== 'string') throw invalidDpopProof('DPoP proof ath missing');
      if (payload.ath !== sha256(request.accessToken))
        throw invalidDpopProof('DPoP proof ath does not match the access token');
    }
  }
}
