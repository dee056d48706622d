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

/** The parameters of a resource's `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface ChallengeInput {
  /** RFC 9728 metadata URL of the resource (`resource_metadata`). */
  resourceMetadata?: string;
  /** Scopes the resource needs (`scope`). */
  scopes?: string[];
  /**
   * `invalid_token` (a token was sent and refused), `insufficient_scope`,
   * `invalid_request` (a malformed request, RFC 6750 §3.1), or an RFC 9449 proof error.
   */
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request' | DpopErrorCode;
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

/** The schemes a resource challenges with (RFC 6750 §3, RFC 9449 §7.1). */
export interface ResourceSchemes {
  /** The resource accepts DPoP with these proof algorithms; without it, Bearer only. */
  dpop?: {
    /** Proof algorithms accepted (`algs`). */
    algs: readonly string[];
    /** Only DPoP is accepted: the Bearer challenge is left out. */
    required?: boolean;
    /**
     * The error goes on the DPoP challenge: the request used DPoP, its proof
     * was refused, or a DPoP-bound token came as Bearer. Implied by `required`.
     */
    errorOnDpop?: boolean;
  };
}

/**
 * The `WWW-Authenticate` value of a resource: `Bearer` alone without
 * `schemes.dpop`; `DPoP` alone when DPoP is required; otherwise both, Bearer
 * first, with the same parameters (RFC 9449 §7.1), the `error` and
 * `error_description` on the one scheme the client used (`errorOnDpop`).
 *
 * ```ts
 * resourceChallenge({ resourceMetadata, scopes: ['mcp'] }, { dpop: { algs: ['ES256'] } });
 * // Bearer scope="mcp", resource_metadata="…", DPoP algs="ES256", scope="mcp", resource_metadata="…"
 * ```
 */
export function resourceChallenge(input: ChallengeInput, schemes: ResourceSchemes = {}): string {
  const dpop = schemes.dpop;
  if (!dpop) return bearerChallenge(input);
  const onDpop = dpop.required === true || dpop.errorOnDpop === true;
  const { error: _error, description: _description, ...bare } = input;
  const dpopPart = dpopChallenge({ ...(onDpop ? input : bare), algs: dpop.algs });
  if (dpop.required) return dpopPart;
  return `${bearerChallenge(onDpop ? bare : input)}, ${dpopPart}`;
}

/** How a refused request presented its token: `dpop` with the accepted algorithms for the DPoP scheme. */
export interface ChallengeScheme {
  dpop?: { algs: readonly string[] };
}

/**
 * The challenge of one refusal by `requireBearer`, `bearerErrorResponse` and `/verify`: the
 * scheme the request used only (`DPoP` with `scheme.dpop`, else `Bearer`).
 */
export function schemeChallenge(input: ChallengeInput, scheme: ChallengeScheme): string {
  return resourceChallenge(input, scheme.dpop ? { dpop: { algs: scheme.dpop.algs, required: true } } : {});
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
  headers['www-authenticate'] = schemeChallenge(challenge, scheme);
  if (body) headers['content-type'] = 'application/json';
  return bodyResponse(body ? JSON.stringify(body) : null, { status, headers });
}
