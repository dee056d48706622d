import { protectedResourceMetadataUrl } from '../endpoints/protected-resource.js';
import type { VerifiedAccessToken, VerifyAccessTokenOptions } from '../tokens/verifier.js';
import { bearerErrorResponse } from './challenge.js';

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

export interface RequireBearerOptions extends VerifyAccessTokenOptions {
  /** RFC 9728 metadata URL for the challenge; default: the well-known location derived from `resource`. */
  resourceMetadataUrl?: string;
}

/** What {@link requireBearer} decided. */
export type BearerCheck = { ok: true; token: VerifiedAccessToken } | { ok: false; response: Response };

/** The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1 syntax), or `undefined`. */
export function bearerFromHeader(authorization: string | null | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization ?? '');
  return m?.[1];
}

/** `Authorization: Bearer <token>`, the only place a token is taken from (RFC 6750 §2.1; no query or body tokens). */
export function readBearer(request: Request): string | undefined {
  return bearerFromHeader(request.headers.get('authorization'));
}

/**
 * The framework-free core of {@link requireBearer}: checks an
 * `Authorization` header value (`null`/`undefined` when absent). Framework
 * middlewares (`/express`, `/hono`) call this with the header they read.
 */
export function bearerHeaderGuard(
  verify: VerifyAccessToken,
  options: RequireBearerOptions,
): (authorization: string | null | undefined) => Promise<BearerCheck> {
  const challenge = {
    resourceMetadata: options.resourceMetadataUrl ?? protectedResourceMetadataUrl(options.resource),
    ...(options.scopes?.length ? { scopes: options.scopes } : {}),
  };
  const verifyOptions: VerifyAccessTokenOptions = {
    resource: options.resource,
    ...(options.scopes ? { scopes: options.scopes } : {}),
  };
  return async (authorization) => {
    const token = bearerFromHeader(authorization);
    if (!token) {
      // A malformed Authorization header counts as a token that was sent and refused.
      const sent = authorization !== null && authorization !== undefined;
      return {
        ok: false,
        response: bearerErrorResponse(sent ? new Error('malformed') : undefined, challenge),
      };
    }
    try {
      return { ok: true, token: await verify(token, verifyOptions) };
    } catch (err) {
      return { ok: false, response: bearerErrorResponse(err, challenge) };
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
  return (request) => guard(request.headers.get('authorization'));
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
