import { unavailableError } from '../http/errors.js';
import { bodyResponse } from '../http/known-body.js';
import { InsufficientScopeError, InvalidTokenError } from '../tokens/errors.js';
import { withoutOfflineAccess } from '../grants/offline-access.js';
import { DpopError, type DpopErrorCode } from '../dpop/errors.js';

/** A quoted-string for an auth-param (RFC 9110 §11.2): backslash-escape `"` and `\`, drop control characters. */
function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

export interface ChallengeInput {
  /** RFC 9728 metadata URL of the resource (`resource_metadata`). */
  resourceMetadata?: string;
  /** Scopes the resource needs (`scope`). */
  scopes?: string[];
  /** `invalid_token` (a token was sent and refused), `insufficient_scope`, or an RFC 9449 proof error. */
  error?: 'invalid_token' | 'insufficient_scope' | DpopErrorCode;
  description?: string;
}

function challengeParams(input: ChallengeInput): string[] {
  const params: string[] = [];
  if (input.error) params.push(`error=${quote(input.error)}`);
  if (input.description) params.push(`error_description=${quote(input.description)}`);
  // SEP-2207: refresh tokens are not a resource requirement, so `offline_access` is never challenged for.
  const scopes = withoutOfflineAccess(input.scopes ?? []);
  if (scopes.length) params.push(`scope=${quote(scopes.join(' '))}`);
  if (input.resourceMetadata) params.push(`resource_metadata=${quote(input.resourceMetadata)}`);
  return params;
}

/** `WWW-Authenticate: Bearer …` per RFC 6750 §3 and RFC 9728 §5.1. */
export function bearerChallenge(input: ChallengeInput): string {
  const params = challengeParams(input);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** `WWW-Authenticate: DPoP algs="…", …` per RFC 9449 §7.1 (same parameters as the Bearer challenge). */
export function dpopChallenge(input: ChallengeInput & { algs: readonly string[] }): string {
  return `DPoP ${[`algs=${quote(input.algs.join(' '))}`, ...challengeParams(input)].join(', ')}`;
}

/** How a refused request presented its token: `dpop` with the accepted algorithms for the DPoP scheme. */
export interface ChallengeScheme {
  dpop?: { algs: readonly string[] };
}

/**
 * The resource server's answer to a missing or refused token: 401 (no token
 * or `invalid_token`) or 403 (`insufficient_scope`), with the challenge and a
 * JSON error body. A token that could not be checked because the store is
 * unreachable answers `503 temporarily_unavailable` with `Retry-After`.
 * With `scheme.dpop` (the request used DPoP, or presented a DPoP-bound token
 * as Bearer) the challenge is `DPoP`; a refused proof is 401
 * `invalid_dpop_proof` or `use_dpop_nonce` with `DPoP-Nonce` (RFC 9449 §7.1, §9).
 */
export function bearerErrorResponse(
  err: unknown,
  input: Omit<ChallengeInput, 'error' | 'description'>,
  scheme: ChallengeScheme = {},
): Response {
  const unavailable = unavailableError(err);
  if (unavailable) return unavailable.toResponse();
  let status = 401;
  let challenge: ChallengeInput = input;
  let body: Record<string, string> | undefined;
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (err instanceof InsufficientScopeError) {
    status = 403;
    challenge = {
      ...input,
      error: 'insufficient_scope',
      scopes: err.challengeScopes,
      description: err.description ?? '',
    };
    body = { error: 'insufficient_scope', error_description: err.description ?? '' };
  } else if (err instanceof InvalidTokenError) {
    challenge = { ...input, error: 'invalid_token', description: err.description ?? '' };
    body = { error: 'invalid_token', error_description: err.description ?? '' };
  } else if (err instanceof DpopError) {
    challenge = { ...input, error: err.code, description: err.description };
    body = { error: err.code, error_description: err.description };
    if (err.nonce) headers['dpop-nonce'] = err.nonce;
  } else if (err !== undefined) {
    challenge = { ...input, error: 'invalid_token', description: 'token could not be verified' };
    body = { error: 'invalid_token', error_description: 'token could not be verified' };
  }
  headers['www-authenticate'] = scheme.dpop
    ? dpopChallenge({ ...challenge, algs: scheme.dpop.algs })
    : bearerChallenge(challenge);
  if (body) headers['content-type'] = 'application/json';
  return bodyResponse(body ? JSON.stringify(body) : null, { status, headers });
}
