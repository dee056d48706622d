import * as oauth from 'oauth4webapi';
import { AuthError, NetworkError } from '../errors.js';
import { describeFetchFailure, isLoopbackHost, type FetchLike } from '../http/fetch.js';
import type { StoredClient } from '../store/types.js';

/** Options passed to every oauth4webapi request. */
export interface OAuthHttp {
  fetch: FetchLike;
  /** Allow `http:` endpoints (loopback only unless the caller says otherwise). */
  allowInsecure: (url: string) => boolean;
}

/** Default: `http:` is allowed for loopback hosts only (local development and tests). */
export const loopbackOnlyInsecure = (url: string): boolean => {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Request options every oauth4webapi call we make accepts. */
export type CommonRequestOptions = oauth.TokenEndpointRequestOptions &
  oauth.DynamicClientRegistrationRequestOptions &
  oauth.RevocationRequestOptions;

/** The oauth4webapi request options for a request to `url`. */
export function requestOptions(http: OAuthHttp, url: string | undefined): CommonRequestOptions {
  return {
    [oauth.customFetch]: http.fetch,
    [oauth.allowInsecureRequests]: url ? http.allowInsecure(url) : false,
    signal: AbortSignal.timeout(15_000),
  };
}

/** The oauth4webapi `Client` for a stored registration. */
export function toOAuthClient(client: StoredClient): oauth.Client {
  const c: oauth.Client = { client_id: client.client_id };
  if (client.token_endpoint_auth_method) c.token_endpoint_auth_method = client.token_endpoint_auth_method;
  return c;
}

/** Client authentication for the token endpoint, from the registration's auth method. */
export function clientAuthFor(client: StoredClient): oauth.ClientAuth {
  const method = client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none');
  if (method === 'none' || !client.client_secret) return oauth.None();
  if (method === 'client_secret_post') return oauth.ClientSecretPost(client.client_secret);
  return oauth.ClientSecretBasic(client.client_secret);
}

/**
 * Turns what oauth4webapi throws into our typed errors: an OAuth error
 * response keeps its `error` code; a transport failure is a
 * {@link NetworkError}; anything else is an `invalid_response`.
 */
export function toAuthError(err: unknown, what: string): Error {
  if (err instanceof AuthError || err instanceof NetworkError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    return new AuthError(
      err.error,
      `${what} failed: ${err.error}${err.error_description ? ` (${err.error_description})` : ''} [HTTP ${err.status}]`,
      { cause: err },
    );
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return new AuthError(
      err.error,
      `${what} failed: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new NetworkError(`${what} failed: ${describeFetchFailure(err)}`, { cause: err });
  }
  if (err instanceof Error && err.name === 'TimeoutError')
    return new NetworkError(`${what} timed out`, { cause: err });
  const status = (err as { cause?: { status?: number } }).cause?.status;
  return new AuthError(
    'invalid_response',
    `${what} failed: ${err instanceof Error ? err.message : String(err)}${status ? ` [HTTP ${status}]` : ''}`,
    { cause: err },
  );
}
