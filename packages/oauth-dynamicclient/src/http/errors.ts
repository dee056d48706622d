import { jsonLineLogger, type Logger } from '@mcp-gateway/internal/log';
import { isStoreUnavailable } from '../store/errors.js';
import { bodyResponse } from './known-body.js';

/**
 * OAuth errors as values. Handlers throw {@link OAuthError}; one place
 * ({@link errorResponse}) turns anything thrown into a `Response`.
 */

/** Error codes from RFC 6749, 6750, 7009, 7591, 8707 and friends, plus HTTP-level ones. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'access_denied'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** The HTTP status each code answers with unless told otherwise. */
export const defaultStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  temporarily_unavailable: 503,
  server_error: 500,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
};

export interface OAuthErrorOptions {
  /** Overrides the default status for the code (e.g. 413 for an oversized body). */
  status?: number;
  /** Extra response headers, e.g. `WWW-Authenticate`, `Retry-After`, `Allow`. */
  headers?: Record<string, string>;
  /** The underlying cause; never sent to the client. */
  cause?: unknown;
}

/** An OAuth error with its RFC error code, a human-readable description and an HTTP status. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly error: OAuthErrorCode;
  readonly description: string | undefined;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(error: OAuthErrorCode, description?: string, options: OAuthErrorOptions = {}) {
    super(description ? `${error}: ${description}` : error, { cause: options.cause });
    this.error = error;
    this.description = description;
    this.status = options.status ?? defaultStatus[error];
    this.headers = options.headers ?? {};
  }

  /** The RFC 6749 §5.2 JSON body. */
  toJSON(): { error: string; error_description?: string } {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }

  /** `{error, error_description}` as JSON with `Cache-Control: no-store` and this error's status and headers. */
  toResponse(): Response {
    return bodyResponse(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...this.headers,
      },
    });
  }
}

const make =
  (code: OAuthErrorCode) =>
  (description?: string, options?: OAuthErrorOptions): OAuthError =>
    new OAuthError(code, description, options);

/** RFC 6749: malformed request. */
export const invalidRequest = make('invalid_request');
/**
 * RFC 6749: client authentication failed (401). Adds
 * `WWW-Authenticate: Basic` when no header is given, as §5.2 asks.
 */
export const invalidClient = (description?: string, options: OAuthErrorOptions = {}): OAuthError =>
  new OAuthError('invalid_client', description, {
    ...options,
    headers: { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"', ...options.headers },
  });
export const invalidGrant = make('invalid_grant');
export const unauthorizedClient = make('unauthorized_client');
export const unsupportedGrantType = make('unsupported_grant_type');
export const unsupportedResponseType = make('unsupported_response_type');
export const invalidScope = make('invalid_scope');
/** RFC 8707: unknown or disallowed `resource`. */
export const invalidTarget = make('invalid_target');
/** RFC 7591 §3.2.2. */
export const invalidRedirectUri = make('invalid_redirect_uri');
/** RFC 7591 §3.2.2. */
export const invalidClientMetadata = make('invalid_client_metadata');
/** RFC 6750 §3.1 (401). Callers add `WWW-Authenticate`. */
export const invalidToken = make('invalid_token');
/** RFC 6750 §3.1 (403). */
export const insufficientScope = make('insufficient_scope');
export const accessDenied = make('access_denied');
export const temporarilyUnavailable = make('temporarily_unavailable');
export const serverError = make('server_error');
export const notFound = (description = 'no such endpoint'): OAuthError =>
  new OAuthError('not_found', description);
export const methodNotAllowed = (allow: string[]): OAuthError =>
  new OAuthError('method_not_allowed', 'method not allowed', { headers: { allow: allow.join(', ') } });
/** 413 for a body over the limit. */
export const payloadTooLarge = (limit: number): OAuthError =>
  new OAuthError('invalid_request', `request body exceeds ${limit} bytes`, { status: 413 });
/** 415 for a body with the wrong content type. */
export const unsupportedMediaType = (expected: string): OAuthError =>
  new OAuthError('invalid_request', `content-type must be ${expected}`, { status: 415 });
/** 429 with `Retry-After` (seconds). */
export const rateLimited = (retryAfterSeconds: number): OAuthError =>
  new OAuthError('rate_limited', 'too many requests, retry later', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

/**
 * `503 temporarily_unavailable` with `Retry-After` for a storage outage
 * ({@link StoreUnavailableError}). The description never carries the cause.
 */
export const storageUnavailable = (retryAfterSeconds = 5, cause?: unknown): OAuthError =>
  new OAuthError('temporarily_unavailable', 'authorization server storage unavailable, retry later', {
    status: 503,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    cause,
  });

/**
 * The {@link OAuthError} a thrown value answers with when it means "try again
 * later": a storage outage, or an `OAuthError` that already says
 * `temporarily_unavailable` (e.g. from a store wrapper). `undefined` otherwise.
 */
export function unavailableError(err: unknown): OAuthError | undefined {
  if (isStoreUnavailable(err)) return storageUnavailable(err.retryAfterSeconds, err);
  if (err instanceof OAuthError && err.error === 'temporarily_unavailable') return err;
  return undefined;
}

export { silentLogger, type Logger } from '@mcp-gateway/internal/log';

/** Writes warn/error as one JSON line each to stderr (`console.error`); debug/info are dropped. */
export const stderrLogger: Logger = jsonLineLogger({
  level: 'warn',
  write: (line) => console.error(line.slice(0, -1)),
});

/**
 * Turns anything thrown by a handler into a `Response`. {@link OAuthError}s
 * answer with their own body; a storage outage (`StoreUnavailableError`)
 * answers `503 temporarily_unavailable` with `Retry-After` (logged as a
 * warning); anything else is logged (name and message only) and answers
 * `500 server_error` with a generic description.
 */
export function errorResponse(err: unknown, log: Logger = stderrLogger): Response {
  if (err instanceof OAuthError) return err.toResponse();
  if (isStoreUnavailable(err)) {
    log.warn('storage unavailable', { errorMessage: err.message });
    return storageUnavailable(err.retryAfterSeconds, err).toResponse();
  }
  log.error('unhandled error', {
    errorName: err instanceof Error ? err.name : typeof err,
    errorMessage: err instanceof Error ? err.message : undefined,
    stack: err instanceof Error ? err.stack : undefined,
  });
  return new OAuthError('server_error', 'internal error').toResponse();
}
