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
  | 'revoked'
  /** RFC 9449 §7: a DPoP-bound token without a proof of its key, or a proof for an unbound token. */
  | 'dpop_binding';

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
 * resource asks for. `required` lists them; `granted` is what the token has.
 */
export class InsufficientScopeError extends OAuthError {
  readonly required: string[];
  readonly granted: string[];
  constructor(required: string[], granted: string[] = []) {
    super(
      'insufficient_scope',
      `token lacks required scope: ${required.filter((s) => !granted.includes(s)).join(' ')}`,
    );
    this.required = required;
    this.granted = granted;
  }

  /**
   * The `scope` of the step-up challenge (MCP 2026-07-28, SEP-2350): the
   * token's scopes plus the required ones, so a client that re-authorizes with
   * exactly this set keeps what it had instead of trading it for the new scope.
   */
  get challengeScopes(): string[] {
    return [...new Set([...this.granted, ...this.required])];
  }
}
