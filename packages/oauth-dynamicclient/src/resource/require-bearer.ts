import { protectedResourceMetadataUrl } from '../endpoints/protected-resource.js';
import type { VerifiedAccessToken, VerifyAccessTokenOptions } from '../tokens/verifier.js';
import { DpopProofVerifier } from '../dpop/proof.js';
import { bearerErrorResponse } from './challenge.js';
import {
  bearerFromHeader,
  challengeScheme,
  parseAuthorization,
  verifyPresentation,
  type ProofContext,
} from './presentation.js';

/** Anything that verifies access tokens (`server.verifyAccessToken`, {@link createAccessTokenVerifier}). */
export type VerifyAccessToken = (
  token: string,
  options: VerifyAccessTokenOptions,
) => Promise<VerifiedAccessToken>;

/** An authorization server (anything with `verifyAccessToken`) or a verify function. */
export type AccessTokenSource =
  | VerifyAccessToken
  | { verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> };

/** The verify function of an {@link AccessTokenSource}. */
export function verifyFunction(source: AccessTokenSource): VerifyAccessToken {
  return typeof source === 'function' ? source : (token, options) => source.verifyAccessToken(token, options);
}

export interface RequireBearerOptions extends Omit<VerifyAccessTokenOptions, 'dpopKey'> {
  /** RFC 9728 metadata URL for the challenge; default: the well-known location derived from `resource`. */
  resourceMetadataUrl?: string;
  /**
   * DPoP (RFC 9449 §7): the proof verifier for `Authorization: DPoP` requests
   * (default: a new {@link DpopProofVerifier} with an in-memory replay cache;
   * `server.requireBearer` uses the server's, with its nonces); `false`
   * refuses the DPoP scheme. DPoP-bound tokens presented as Bearer are
   * refused either way.
   */
  dpop?: DpopProofVerifier | false;
  /**
   * The URL clients address (the proof's `htu`) when it differs from
   * `request.url`, e.g. behind a TLS-terminating proxy. Default `request.url`.
   */
  publicUrl?: (request: Request) => string;
}

/** What {@link requireBearer} decided. */
export type BearerCheck = { ok: true; token: VerifiedAccessToken } | { ok: false; response: Response };

export type { ProofContext } from './presentation.js';

export { bearerFromHeader } from './presentation.js';

/** `Authorization: Bearer <token>`, the only place a token is taken from (RFC 6750 §2.1; no query or body tokens). */
export function readBearer(request: Request): string | undefined {
  return bearerFromHeader(request.headers.get('authorization'));
}

/**
 * The framework-free core of {@link requireBearer}: checks an
 * `Authorization` header value (`null`/`undefined` when absent) and, for the
 * DPoP scheme, the request's method, URL and `DPoP` header (`http`; without
 * it a DPoP presentation is refused). Framework middlewares (`/express`,
 * `/hono`) call this with what they read.
 */
export function bearerHeaderGuard(
  verify: VerifyAccessToken,
  options: RequireBearerOptions,
): (authorization: string | null | undefined, http?: ProofContext) => Promise<BearerCheck> {
  const dpop = options.dpop ?? new DpopProofVerifier();
  const challenge = {
    resourceMetadata: options.resourceMetadataUrl ?? protectedResourceMetadataUrl(options.resource),
    ...(options.scopes?.length ? { scopes: options.scopes } : {}),
  };
  const verifyOptions: VerifyAccessTokenOptions = {
    resource: options.resource,
    ...(options.scopes ? { scopes: options.scopes } : {}),
  };
  return async (authorization, http) => {
    const presented = parseAuthorization(authorization);
    if (!presented) {
      // A malformed Authorization header counts as a token that was sent and refused.
      const sent = authorization !== null && authorization !== undefined;
      return {
        ok: false,
        response: bearerErrorResponse(sent ? new Error('malformed') : undefined, challenge),
      };
    }
    try {
      const token = await verifyPresentation(presented, http, dpop, (dpopKey) =>
        verify(presented.token, dpopKey === undefined ? verifyOptions : { ...verifyOptions, dpopKey }),
      );
      return { ok: true, token };
    } catch (err) {
      return {
        ok: false,
        response: bearerErrorResponse(err, challenge, challengeScheme(presented, err, dpop)),
      };
    }
  };
}

/**
 * Guards a fetch handler: the request's bearer token must be valid for
 * `resource` with `scopes`. On failure the ready-made response is a 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…", scope="…"` (plus
 * `error="invalid_token"` when a token was sent) or a 403
 * `insufficient_scope` for step-up.
 *
 * ```ts
 * const guard = requireBearer(server.verifyAccessToken, { resource: 'https://host/mcp', scopes: ['mcp'] });
 * const check = await guard(request);
 * if (!check.ok) return check.response;
 * ```
 */
export function requireBearer(
  verify: VerifyAccessToken,
  options: RequireBearerOptions,
): (request: Request) => Promise<BearerCheck> {
  const guard = bearerHeaderGuard(verify, options);
  return (request) =>
    guard(request.headers.get('authorization'), {
      method: request.method,
      url: options.publicUrl ? options.publicUrl(request) : request.url,
      dpop: request.headers.get('dpop'),
    });
}

/** Wraps a fetch handler with {@link requireBearer}; the handler receives the verified token. */
export function withBearer(
  verify: VerifyAccessToken,
  options: RequireBearerOptions,
  handler: (request: Request, token: VerifiedAccessToken) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  const guard = requireBearer(verify, options);
  return async (request) => {
    const check = await guard(request);
    return check.ok ? handler(request, check.token) : check.response;
  };
}
