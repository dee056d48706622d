import { bearerFromHeader as asBearerFromHeader, resourceChallenge } from '@mcp-gateway/oauth-dynamicclient';
import type { RequestInfo } from './http/node.js';
import type { Identity } from './identity.js';

/** RFC 6750 and RFC 9449 §7.1 error codes of a refused token or proof. */
export type AuthErrorCode =
  'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** How a refusal is challenged beyond its status and code. */
export interface AuthErrorOptions {
  /**
   * Carry the error on the `DPoP` challenge (RFC 9449 §7.1): the request used
   * DPoP, its proof was refused, or a DPoP-bound token came as Bearer.
   */
  dpop?: boolean;
  /** The server nonce to retry with (`DPoP-Nonce` header, RFC 9449 §9). */
  nonce?: string;
}

/** A token was missing, malformed, invalid or lacked a scope: the 400/401/403 a client receives. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    /** 401 for a missing or bad token, 403 for a missing scope, 400 for a malformed `Authorization` header. */
    readonly status: 400 | 401 | 403,
    /** RFC 6750 / RFC 9449 error code, or `undefined` when no token was sent. */
    readonly error: AuthErrorCode | undefined,
    readonly description: string,
    readonly options: AuthErrorOptions = {},
  ) {
    super(description);
  }
}

/** The facts of an HTTP request a DPoP proof is checked against (RFC 9449 §4.3). */
export interface PresentationContext {
  /** The request's method (`htm`). */
  method: string;
  /** The URL the client addressed (`htu`): behind a trusted proxy, the public one. */
  url: string;
  /** The request's `DPoP` header, `null`/`undefined` when absent. */
  dpop: string | null | undefined;
}

/** The DPoP schemes a resource advertises in its challenges (RFC 9449 §7.1). */
export interface DpopChallengeInfo {
  /** Proof algorithms accepted (`algs`). */
  algorithms: readonly string[];
  /** Only DPoP is accepted: the `Bearer` challenge is left out. */
  required: boolean;
}

/** A protected resource the authorization server issues tokens for. */
export interface ResourceDescriptor {
  resource: string;
  scopes: string[];
  name: string;
  /** `false`: keep its scopes out of the authorization server's metadata (a service restricted to some users). */
  advertise?: boolean;
}

/**
 * What the gateway needs from an authorization server. `createGateway` builds
 * one from `@mcp-gateway/oauth-dynamicclient`; tests and other setups may
 * plug in another.
 */
export interface GatewayAuth {
  /**
   * Serves the authorization-server endpoints (metadata, registration, login, consent, token,
   * `/verify`, …); `info` is the node edge's socket facts (the peer address for rate limits).
   */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /** Checks an access token for `resource` and `scopes`; throws {@link AuthError}. */
  verify(token: string, opts: { resource: string; scopes: string[] }): Promise<Identity>;
  /**
   * Checks an `Authorization` header as presented (`Bearer` or `DPoP` with
   * its proof for `http`, RFC 9449 §7); throws {@link AuthError}. Without it
   * the gateway accepts `Bearer` only and calls {@link verify}.
   */
  authenticate?(
    authorization: string | null | undefined,
    http: PresentationContext,
    opts: { resource: string; scopes: string[] },
  ): Promise<Identity>;
  /** DPoP challenge parameters when the server accepts DPoP (`undefined`: Bearer only). */
  readonly dpop?: DpopChallengeInfo | undefined;
  /** Called when services (and so resources) change at runtime. */
  setResources?(resources: ResourceDescriptor[]): void | Promise<void>;
  /** True when the authorization server's store is reachable. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** The bearer token of a request (`Authorization: Bearer …` only), or `undefined`; throws {@link AuthError} when malformed. */
export function bearerToken(request: Request): string | undefined {
  return bearerFromHeader(request.headers.get('authorization'));
}

/**
 * The bearer token in an `Authorization` header value (the authorization
 * server's parser, RFC 6750 §2.1); `undefined` when absent.
 *
 * @throws AuthError when the header is not `Bearer <token>` ({@link unusableAuthorization}).
 */
export function bearerFromHeader(h: string | null | undefined): string | undefined {
  if (!h) return undefined;
  const token = asBearerFromHeader(h);
  if (!token) throw unusableAuthorization(h, ['bearer']);
  return token;
}

/**
 * The refusal of an `Authorization` header that is no usable presentation of
 * the `accepted` schemes (lower case), as RFC 6750 §3.1 has it: another scheme
 * (`Basic …`) is a request without credentials, 401 with no error code; an
 * accepted scheme without a well-formed token (`Bearer`, `Bearer a b`) is a
 * malformed request, 400 `invalid_request`.
 */
export function unusableAuthorization(h: string, accepted: readonly string[]): AuthError {
  const scheme = /^\s*(\S+)/.exec(h)?.[1]?.toLowerCase() ?? '';
  if (!accepted.includes(scheme)) return new AuthError(401, undefined, 'an access token is required');
  const description = 'malformed Authorization header (expected one token after the scheme)';
  return new AuthError(400, 'invalid_request', description, scheme === 'dpop' ? { dpop: true } : {});
}

/**
 * The `WWW-Authenticate` challenges for a protected resource, built by the
 * authorization server's `resourceChallenge` (RFC 6750 §3, RFC 9728 §5.1).
 * With `dpop`, a `DPoP algs="…"` challenge with the same parameters follows
 * the Bearer one (RFC 9449 §7.1), or replaces it when DPoP is required; the
 * error goes on the scheme the client used (a refused proof or a DPoP-bound
 * token sent as Bearer: the DPoP challenge).
 */
export function challenge(
  metadataUrl: string,
  scopes: string[],
  err?: AuthError,
  dpop?: DpopChallengeInfo,
): string {
  return resourceChallenge(
    {
      resourceMetadata: metadataUrl,
      scopes,
      ...(err?.error ? { error: err.error, description: err.description } : {}),
    },
    dpop
      ? { dpop: { algs: dpop.algorithms, required: dpop.required, errorOnDpop: err?.options.dpop === true } }
      : {},
  );
}
