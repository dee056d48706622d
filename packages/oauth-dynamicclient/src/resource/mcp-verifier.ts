import { unavailableError } from '../http/errors.js';
import { InsufficientScopeError, InvalidTokenError } from '../tokens/errors.js';
import type { VerifiedAccessToken, VerifyAccessTokenOptions } from '../tokens/verifier.js';
import { verifyFunction, type AccessTokenSource } from './require-bearer.js';

/**
 * The MCP TypeScript SDK's `AuthInfo` (v1 `@modelcontextprotocol/sdk/server/auth/types.js`,
 * v2 `@modelcontextprotocol/server`), declared here so this package needs no SDK.
 */
export interface McpAuthInfo {
  /** The access token. */
  token: string;
  /** `client_id` of the token. */
  clientId: string;
  /** Granted scopes. */
  scopes: string[];
  /** `exp`, seconds since the epoch (the SDK refuses tokens without it). */
  expiresAt?: number;
  /** The RFC 8707 resource the token was verified for (its audience). */
  resource?: URL;
  /** `sub` (immutable user id), `login`, `name` and the verified `claims`. */
  extra?: Record<string, unknown>;
}

/** The SDK's `OAuthTokenVerifier`: what `requireBearerAuth({ verifier })` calls. */
export interface McpTokenVerifier {
  verifyAccessToken(token: string): Promise<McpAuthInfo>;
}

/** Error classes taking a message, as the v1 SDK's `server/auth/errors.js` exports them. */
export interface McpSdkErrorClasses {
  InvalidTokenError: new (message: string) => Error;
  InsufficientScopeError: new (message: string) => Error;
  ServerError: new (message: string) => Error;
}

export interface McpTokenVerifierOptions extends VerifyAccessTokenOptions {
  /**
   * The v1 SDK's error classes (`import * as errors from
   * '@modelcontextprotocol/sdk/server/auth/errors.js'`). v1's middleware
   * classifies errors with `instanceof` on its own classes, so without them
   * a refused token would answer 500. Not needed for the v2 SDK.
   */
  errors?: McpSdkErrorClasses;
}

/** The v2 SDK recognises errors from another bundle by this registered symbol (a set of brands). */
const SDK_BRANDS = Symbol.for('mcp.sdk.errorBrands');

/**
 * An OAuth error the v2 SDK treats as its own `OAuthError` (`instanceof`
 * holds through the SDK's cross-bundle brand, `code` picks the status:
 * `invalid_token` 401, `insufficient_scope` 403, `server_error` 500).
 */
export class McpOAuthError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'OAuthError';
    this.code = code;
    Object.defineProperty(this, SDK_BRANDS, { value: new Set(['mcp.OAuthError']), enumerable: false });
  }
  /** v1 name of {@link code}. */
  get errorCode(): string {
    return this.code;
  }
  /** The RFC 6749 §5.2 error body, as the SDK writes it. */
  toResponseObject(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

/** Our verification failure as the SDK's error: 401, 403 or (store unreachable, anything else) 500. */
function sdkError(err: unknown, errors: McpSdkErrorClasses | undefined): Error {
  if (err instanceof InsufficientScopeError) {
    const message = err.description ?? 'insufficient scope';
    return errors
      ? new errors.InsufficientScopeError(message)
      : new McpOAuthError('insufficient_scope', message);
  }
  if (err instanceof InvalidTokenError) {
    const message = err.description ?? 'invalid token';
    return errors ? new errors.InvalidTokenError(message) : new McpOAuthError('invalid_token', message);
  }
  const message = unavailableError(err)
    ? 'token could not be checked (storage unavailable)'
    : 'token could not be verified';
  return errors ? new errors.ServerError(message) : new McpOAuthError('server_error', message);
}

/** {@link VerifiedAccessToken} as the SDK's `AuthInfo`. */
export function toMcpAuthInfo(token: string, verified: VerifiedAccessToken, resource: string): McpAuthInfo {
  return {
    token,
    clientId: verified.clientId,
    scopes: verified.scopes,
    expiresAt: verified.expiresAt,
    resource: new URL(resource),
    extra: { sub: verified.sub, login: verified.login, name: verified.name, claims: verified.claims },
  };
}

/**
 * A token verifier in the MCP SDK's `OAuthTokenVerifier` shape, bound to one
 * resource (the SDK's `verifyAccessToken(token)` has no resource argument;
 * the audience is checked here). Works with the SDK's `requireBearerAuth`:
 * refused tokens throw errors its middleware maps to 401 `invalid_token` or
 * 403 `insufficient_scope`; a store outage maps to 500 `server_error`.
 *
 * `source` is the {@link AuthorizationServer} (in this process) or
 * {@link createAccessTokenVerifier} (the issuer's JWKS, for a resource server
 * in another process).
 *
 * ```ts
 * // v2: @modelcontextprotocol/express
 * app.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(as, { resource }) }), …);
 * // v1: @modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js
 * import * as errors from '@modelcontextprotocol/sdk/server/auth/errors.js';
 * requireBearerAuth({ verifier: mcpTokenVerifier(as, { resource, errors }) });
 * ```
 */
export function mcpTokenVerifier(
  source: AccessTokenSource,
  options: McpTokenVerifierOptions,
): McpTokenVerifier {
  const verify = verifyFunction(source);
  const verifyOptions: VerifyAccessTokenOptions = {
    resource: options.resource,
    ...(options.scopes ? { scopes: options.scopes } : {}),
  };
  return {
    async verifyAccessToken(token) {
      let verified: VerifiedAccessToken;
      try {
        verified = await verify(token, verifyOptions);
      } catch (err) {
        throw sdkError(err, options.errors);
      }
      return toMcpAuthInfo(token, verified, options.resource);
    },
  };
}
