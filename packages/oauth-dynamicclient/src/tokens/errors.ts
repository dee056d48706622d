import { OAuthError } from '../http/errors.js';

/** Why an access token was refused; logged and tested, never needed by clients to recover. */
export type InvalidTokenReason =
  | 'malformed'
  | 'algorithm'
  | 'unknown_key'
  | 'signature'
  | 'type'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'revoked';

/**
 * RFC 6750 `invalid_token` (401): the token is missing its mark in some way.
 * `reason` says which check failed.
 */
export class InvalidTokenError extends OAuthError {
  readonly reason: InvalidTokenReason;
  constructor(reason: InvalidTokenReason, description: string) {
    super('invalid_token', description);
    this.reason = reason;
  }
}

/**
 * RFC 6750 `insufficient_scope` (403): a valid token without every scope the
 * resource asks for. `required` lists them, for the `scope` challenge parameter.
 */
export class InsufficientScopeError extends OAuthError {
  readonly required: string[];
  constructor(required: string[]) {
    super('insufficient_scope', `token lacks required scope: ${required.join(' ')}`);
    this.required = required;
  }
}
