import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { epochSeconds, systemClock, type Clock } from '../clock.js';
import { base64url } from '../ids.js';
import { DpopError, invalidDpopProof } from './errors.js';
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

/** JWK members that only a private or symmetric key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

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
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return base64url(new Uint8Array(digest));
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
  readonly nonces: DpopNonces | undefined;

  constructor(options: DpopProofVerifierOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.algorithms = (options.algorithms ?? dpopAlgorithms).filter((a) => dpopAlgorithms.includes(a));
    this.maxAge = options.maxAgeSeconds ?? 60;
    this.skew = options.clockSkewSeconds ?? 10;
    this.replay = options.replay ?? new MemoryReplayCache({ clock: this.clock });
    this.nonces = options.nonces;
  }

  /** Checks `proof` (the `DPoP` header value) for `request`. */
  async verify(proof: string, request: DpopRequest): Promise<VerifiedDpopProof> {
    const jwk = this.publicJwk(proof);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: this.algorithms,
        currentDate: new Date(this.clock.now()),
      }));
    } catch {
      throw invalidDpopProof('DPoP proof signature or claims invalid');
    }
    await this.checkClaims(payload, request);
    if (this.nonces && !(await this.nonces.isValid(payload.nonce))) {
      const nonce = await this.nonces.current();
      throw new DpopError(
        'use_dpop_nonce',
        payload.nonce === undefined ? 'a DPoP nonce is required' : 'DPoP nonce stale',
        nonce,
      );
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const iat = payload.iat!;
    if (!(await this.replay.firstUse(`dpop:${jkt}`, payload.jti as string, iat + this.maxAge + this.skew)))
      throw invalidDpopProof('DPoP proof already used (jti)');
    return { jkt, jti: payload.jti as string, iat };
  }

  /** The header's `jwk`, after `typ`, `alg` and "public key only" checks. */
  private publicJwk(proof: string): JWK {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw invalidDpopProof('DPoP proof is not a JWS');
    }
    if (header.typ !== 'dpop+jwt') throw invalidDpopProof('DPoP proof typ must be dpop+jwt');
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg))
      throw invalidDpopProof('DPoP proof algorithm not allowed');
    const jwk = header.jwk;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || typeof jwk.kty !== 'string')
      throw invalidDpopProof('DPoP proof has no jwk header');
    if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk))
      throw invalidDpopProof('DPoP proof jwk must be a public key');
    return jwk;
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
    if (request.accessToken !== undefined) {
      if (typeof payload.ath !== 'string') throw invalidDpopProof('DPoP proof ath missing');
      if (payload.ath !== (await accessTokenHash(request.accessToken)))
        throw invalidDpopProof('DPoP proof ath does not match the access token');
    }
  }
}
