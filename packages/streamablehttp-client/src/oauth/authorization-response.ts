import * as oauth from 'oauth4webapi';
import { AuthError } from '../errors.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { describeOAuthError, serverText, toAuthError } from './oauth4.js';

/**
 * RFC 9207 §2.4 as MCP 2026-07-28 (SEP-2468) applies it, before the code
 * goes anywhere: when the metadata advertises
 * `authorization_response_iss_parameter_supported`, `iss` must be present;
 * a present `iss` must equal the recorded issuer whatever the metadata says,
 * by simple string comparison (RFC 3986 §6.2.1: no case folding, no
 * trailing-slash or port normalization). Throws `iss_missing` / `iss_mismatch`.
 */
export function checkIssuerIdentification(as: AuthorizationServerMetadata, callback: URL): void {
  const iss = callback.searchParams.get('iss');
  if (iss === null) {
    if (as.authorization_response_iss_parameter_supported === true) {
      throw new AuthError(
        'iss_missing',
        `the authorization response carries no iss although ${as.issuer} advertises authorization_response_iss_parameter_supported (RFC 9207 §2.4, MCP 2026-07-28); possible mix-up attack, nothing stored`,
      );
    }
    return;
  }
  if (iss !== as.issuer) {
    throw new AuthError(
      'iss_mismatch',
      `the authorization response came from the wrong issuer (iss "${serverText(iss)}", expected "${serverText(as.issuer)}"): RFC 9207 §2.4 (MCP 2026-07-28) requires them to be identical; possible mix-up attack, nothing stored`,
    );
  }
}

/**
 * Validates the redirect back from the authorization endpoint: issuer
 * identification first ({@link checkIssuerIdentification}), then oauth4webapi's
 * checks (`state`, an error response). Returns the parameters for the code grant.
 * An error response (RFC 6749 §4.1.2.1: the user denied, the sign-in was refused or
 * the server failed) becomes an {@link AuthError} whose `code` is the OAuth `error`
 * and whose message names it: `sign-in failed: the authorization server answered
 * access_denied (…)`.
 */
export function validateAuthorizationResponse(
  as: AuthorizationServerMetadata,
  client: oauth.Client,
  callback: URL,
  expectedState: string,
): URLSearchParams {
  checkIssuerIdentification(as, callback);
  try {
    return oauth.validateAuthResponse(as, client, callback, expectedState);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      throw new AuthError(
        serverText(err.error, 100),
        `sign-in failed: the authorization server answered ${describeOAuthError(err.error, err.error_description)}`,
        { cause: err },
      );
    }
    if (err instanceof oauth.OperationProcessingError) {
      if (/"state"/.test(err.message)) {
        throw new AuthError(
          'state_mismatch',
          'the authorization response carries the wrong state; possible CSRF, nothing stored',
          { cause: err },
        );
      }
      throw new AuthError('invalid_response', `invalid authorization response: ${err.message}`, {
        cause: err,
      });
    }
    throw toAuthError(err, 'authorization');
  }
}
