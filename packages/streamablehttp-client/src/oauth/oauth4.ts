import * as oauth from 'oauth4webapi';
import { AuthError, NetworkError } from '../errors.js';
import { describeFetchFailure, isLoopbackHost, type FetchLike } from '../http/fetch.js';
import type { StoredClient } from '../store/types.js';
import { withDPoPNonceRetry } from './dpop.js';

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

/** The oauth4webapi request options for a request to `url`, with a DPoP proof (RFC 9449) when `dpop` is given. */
export function requestOptions(
  http: OAuthHttp,
  url: string | undefined,
  dpop?: oauth.DPoPHandle,
): CommonRequestOptions {
  return {
    [oauth.customFetch]: http.fetch,
    [oauth.allowInsecureRequests]: url ? http.allowInsecure(url) : false,
    signal: AbortSignal.timeout(15_000),
    ...(dpop ? { DPoP: dpop } : {}),
  };
}

/** The oauth4webapi `Client` for a stored registration. */
export function toOAuthClient(client: StoredClient): oauth.Client {
  const c: oauth.Client = { client_id: client.client_id };
  if (client.token_endpoint_auth_method) c.token_endpoint_auth_method = client.token_endpoint_auth_method;
  return c;
}

/**
 * Percent-encodes only what cannot appear raw in a Basic credential: RFC 3986
 * unreserved characters (and `!*'()`) stay as they are. RFC 6749 §2.3.1 asks
 * for full form-encoding first, but servers in the field (and the MCP
 * conformance suite) compare the raw value, so `pre-registered-client` must
 * travel as itself; `:` and `%` are still encoded, so decoding servers agree.
 */
export function basicCredentialEncode(value: string): string {
  return encodeURIComponent(value);
}

/** `client_secret_basic` (RFC 6749 §2.3.1) with the minimal encoding of {@link basicCredentialEncode}. */
export function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${basicCredentialEncode(client.client_id)}:${basicCredentialEncode(secret)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`);
  };
}

/** The token-endpoint auth method a stored client uses. */
export function clientAuthMethod(client: StoredClient): string {
  if (!client.client_secret) return 'none';
  return client.token_endpoint_auth_method ?? 'client_secret_basic';
}

/**
 * Client authentication for the token endpoint, from the registration's auth
 * method (`private_key_jwt` needs the key: see `privateKeyJwtAuth`).
 */
export function clientAuthFor(client: StoredClient): oauth.ClientAuth {
  const method = clientAuthMethod(client);
  if (method === 'none' || !client.client_secret) return oauth.None();
  if (method === 'client_secret_post') return oauth.ClientSecretPost(client.client_secret);
  return clientSecretBasic(client.client_secret);
}

/**
 * Runs a token-endpoint request with the client's auth method; when a server
 * answers `invalid_client` to `client_secret_basic` for a secret it issued,
 * tries once more with `client_secret_post` (some servers accept only the
 * body form whatever their metadata says). On success with the fallback,
 * `client.token_endpoint_auth_method` is updated so the choice is stored.
 */
export async function withClientAuthFallback<T>(
  client: StoredClient,
  what: string,
  run: (auth: oauth.ClientAuth) => Promise<T>,
  onFallback?: (reason: string) => void,
  auth: oauth.ClientAuth = clientAuthFor(client),
): Promise<T> {
  try {
    return await run(auth);
  } catch (err) {
    const e = toAuthError(err, what);
    if (!(e instanceof AuthError) || e.code !== 'invalid_client') throw e;
    if (clientAuthMethod(client) !== 'client_secret_basic' || !client.client_secret) throw e;
    onFallback?.(e.message);
    const out = await run(oauth.ClientSecretPost(client.client_secret)).catch((retryErr: unknown) => {
      throw toAuthError(retryErr, `${what} (client_secret_post after client_secret_basic was refused)`);
    });
    client.token_endpoint_auth_method = 'client_secret_post';
    return out;
  }
}

/** Longest `error_description` shown; longer ones are cut. */
const MAX_SERVER_TEXT = 300;

/**
 * Text an authorization server chose (`error`, `error_description`), safe to print on a
 * terminal or a page. RFC 6749 §4.1.2.1 and §5.2 allow only printable ASCII there; a server
 * that sends control characters (terminal escape sequences, line breaks) or bidirectional
 * overrides gets each shown as `?`, and overlong text is cut.
 */
export function serverText(value: string, max = MAX_SERVER_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const shown = value.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}

/** `error (description)` of an OAuth error response, both made safe to print ({@link serverText}). */
export function describeOAuthError(error: string, description: string | undefined): string {
  return `${serverText(error, 100)}${description ? ` (${serverText(description)})` : ''}`;
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
      serverText(err.error, 100),
      `${what} failed: ${describeOAuthError(err.error, err.error_description)} [HTTP ${err.status}]`,
      { cause: err },
    );
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // A token endpoint that refuses client authentication answers 401 with a
    // challenge (RFC 6749 §5.2): that is invalid_client unless the challenge names another error.
    const named = err.cause.find((c) => typeof c.parameters.error === 'string')?.parameters;
    const code = serverText(
      named?.error ?? (err.status === 401 ? 'invalid_client' : 'invalid_response'),
      100,
    );
    return new AuthError(
      code,
      `${what} failed: ${describeOAuthError(code, named?.error_description)} [HTTP ${err.status}, WWW-Authenticate: ${err.cause.map((c) => serverText(c.scheme, 50)).join(', ')}]`,
      { cause: err },
    );
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return new AuthError(
      serverText(err.error, 100),
      `${what} failed: ${describeOAuthError(err.error, err.error_description)}`,
      { cause: err },
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

/**
 * One token-endpoint request for any grant (`grant_type` + form
 * `parameters`), its response validated by oauth4webapi; `recognizedTokenTypes`
 * admits token types other than Bearer/DPoP (RFC 8693's `N_A`). With `dpop`
 * the request carries a proof, and a `use_dpop_nonce` answer is retried once
 * with the server's nonce.
 */
export async function genericGrant(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  grantType: string,
  parameters: Record<string, string>,
  http: OAuthHttp,
  recognizedTokenTypes?: oauth.RecognizedTokenTypes,
  dpop?: oauth.DPoPHandle,
): Promise<oauth.TokenEndpointResponse> {
  return withDPoPNonceRetry(dpop, async () => {
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      auth,
      grantType,
      parameters,
      requestOptions(http, as.token_endpoint, dpop),
    );
    return oauth.processGenericTokenEndpointResponse(
      as,
      client,
      response,
      recognizedTokenTypes ? { recognizedTokenTypes } : undefined,
    );
  });
}
