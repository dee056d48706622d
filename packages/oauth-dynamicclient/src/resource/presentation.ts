import { DpopError, invalidDpopProof } from '../dpop/errors.js';
import {
  dpopAlgorithms,
  singleProof,
  type DpopProofVerifier,
  type VerifiedDpopProof,
} from '../dpop/proof.js';
import { InvalidTokenError } from '../tokens/errors.js';
import type { ChallengeScheme } from './challenge.js';

/** An access token as the `Authorization` header carried it. */
export interface PresentedToken {
  /** `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1). */
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** The facts of an HTTP request a DPoP proof is checked against. */
export interface ProofContext {
  /** The request's method (`htm`). */
  method: string;
  /** The URL the client addressed (`htu`): behind a proxy, the public one. */
  url: string;
  /** The `DPoP` header (`null`/`undefined` when absent). */
  dpop: string | null | undefined;
}

const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The scheme and token of an `Authorization` value (token68 syntax), or `undefined`. */
export function parseAuthorization(value: string | null | undefined): PresentedToken | undefined {
  const m = AUTHORIZATION.exec(value ?? '');
  if (!m) return undefined;
  return { scheme: m[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: m[2]! };
}

/** The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1 syntax), or `undefined`. */
export function bearerFromHeader(authorization: string | null | undefined): string | undefined {
  const presented = parseAuthorization(authorization);
  return presented?.scheme === 'Bearer' ? presented.token : undefined;
}

/**
 * The key a DPoP presentation proved (RFC 9449 §7.1: proof for this method
 * and URL, `ath` of this token), for `VerifyAccessTokenOptions.dpopKey`;
 * `undefined` for a Bearer presentation. The proof's `jti` is recorded at
 * once: to record it only for a token that passed, use
 * {@link verifyPresentation}.
 *
 * @throws DpopError when the proof is missing or refused, or DPoP is off (`verifier` false).
 */
export async function provenKey(
  presented: PresentedToken,
  http: ProofContext | undefined,
  verifier: DpopProofVerifier | false,
): Promise<string | undefined> {
  const proof = await checkedProof(presented, http, verifier);
  if (proof && verifier) await verifier.recordUse(proof);
  return proof?.jkt;
}

/**
 * Verifies a presented token with its DPoP proof, in the order that writes
 * nothing for a refused request: the proof's signature and claims
 * (stateless), then `verifyToken` with the proven key (the token, its
 * `cnf.jkt` binding, audience, revocation, scopes), and only then the
 * proof's `jti` in the replay cache, so a replayed proof is still refused
 * before anything is granted. A Bearer presentation calls `verifyToken(undefined)`.
 *
 * @throws DpopError for a missing, refused or replayed proof, or whatever `verifyToken` throws.
 */
export async function verifyPresentation<T>(
  presented: PresentedToken,
  http: ProofContext | undefined,
  verifier: DpopProofVerifier | false,
  verifyToken: (dpopKey: string | undefined) => Promise<T>,
): Promise<T> {
  const proof = await checkedProof(presented, http, verifier);
  const verified = await verifyToken(proof?.jkt);
  if (proof && verifier) await verifier.recordUse(proof);
  return verified;
}

/** The checked (not yet recorded) proof of a DPoP presentation; `undefined` for Bearer. */
async function checkedProof(
  presented: PresentedToken,
  http: ProofContext | undefined,
  verifier: DpopProofVerifier | false,
): Promise<VerifiedDpopProof | undefined> {
  if (presented.scheme === 'Bearer') return undefined;
  if (!verifier) throw invalidDpopProof('the DPoP scheme is not accepted here');
  if (!http) throw invalidDpopProof('DPoP needs the request method and URL');
  const proof = singleProof(http.dpop);
  if (!proof) throw invalidDpopProof('DPoP proof missing');
  return verifier.check(proof, { method: http.method, url: http.url, accessToken: presented.token });
}

/**
 * The challenge scheme of a refusal: `DPoP` when the request used it, when a
 * proof was refused, or when a DPoP-bound token came as Bearer (so the client
 * learns which scheme to use); `Bearer` otherwise.
 */
export function challengeScheme(
  presented: PresentedToken | undefined,
  err: unknown,
  verifier: DpopProofVerifier | false,
): ChallengeScheme {
  const dpop =
    presented?.scheme === 'DPoP' ||
    err instanceof DpopError ||
    (err instanceof InvalidTokenError && err.reason === 'dpop_binding');
  return dpop ? { dpop: { algs: verifier ? verifier.algorithms : dpopAlgorithms } } : {};
}
