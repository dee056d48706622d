import { AuthError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseBearerChallenge } from '../oauth/challenge.js';
import { dpopResourceRequest } from '../oauth/dpop.js';
import type { OAuthSession } from '../oauth/session.js';
import { isDeadlineAware, markDeadlineAware, untimed } from './deadline.js';
import type { FetchLike } from './fetch.js';

/** How requests to the MCP server are authorized. */
export interface AuthFetchOptions {
  /** OAuth: tokens from the session, refresh and login on 401, step-up on 403 `insufficient_scope`. */
  session?: OAuthSession;
  /** A fixed bearer token (`--token`). */
  token?: string;
  /** Extra headers on every request (`--header`). An `Authorization` here turns token handling off. */
  headers?: Record<string, string>;
  fetch?: FetchLike;
  logger?: Logger;
}

/**
 * A fetch for the MCP transport that adds credentials and reacts to
 * challenges: on 401 it asks the session for a token (stored by another
 * process, refreshed, or a new login) and retries once; on 403
 * `insufficient_scope` it steps up and retries once. A final 401/403 becomes
 * an {@link AuthError}, so callers can tell auth failures from server failures.
 * A session token bound to a DPoP key (RFC 9449) goes out as
 * `Authorization: DPoP` with a fresh proof per request, never as Bearer.
 */
export function createAuthFetch(opts: AuthFetchOptions = {}): FetchLike {
  const base = opts.fetch ?? fetch;
  const extra = opts.headers ?? {};
  const fixedAuthorization = Object.keys(extra).some((k) => k.toLowerCase() === 'authorization');
  const session = fixedAuthorization ? undefined : opts.session;
  const authFetch: FetchLike = async (input, init = {}) => {
    // Waiting for credentials (a sign-in above all) is not timed by the request's whole-answer deadline.
    const credentials = <T>(get: () => Promise<T>) => untimed(init.signal, get);
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    let token = fixedAuthorization
      ? undefined
      : (opts.token ?? (session ? await credentials(() => session.accessToken()) : undefined));
    const send = async () => {
      const dpop = token && session ? await session.dpopFor(token) : undefined;
      if (dpop) return dpopResourceRequest(dpop, token!, input, { ...init, headers }, base);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return base(input, { ...init, headers });
    };
    let response = await send();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

    if (response.status === 401) {
      const challenge = await parseBearerChallenge(response);
      await response.body?.cancel().catch(() => {});
      if (!session) {
        throw new AuthError(
          challenge?.error ?? 'unauthorized',
          token || fixedAuthorization
            ? `${url} rejected the credentials (HTTP 401${challenge?.error ? ` ${challenge.error}` : ''})`
            : `${url} requires authorization (HTTP 401); use --oauth2, --token or --header`,
        );
      }
      opts.logger?.debug('401 from server; asking the OAuth session for a token', {
        error: challenge?.error,
      });
      token = await credentials(() => session.handleUnauthorized(token, challenge));
      response = await send();
      if (response.status === 401) {
        const again = await parseBearerChallenge(response);
        await response.body?.cancel().catch(() => {});
        throw new AuthError(
          again?.error ?? 'invalid_token',
          `${url} rejected a fresh access token (HTTP 401)`,
        );
      }
    }

    if (response.status === 403) {
      const challenge = await parseBearerChallenge(response);
      if (challenge?.error === 'insufficient_scope') {
        await response.body?.cancel().catch(() => {});
        if (!session) {
          throw new AuthError(
            'insufficient_scope',
            `${url} needs more scopes (${challenge.scope ?? 'unnamed'}) than the token has`,
          );
        }
        token = await credentials(() => session.handleInsufficientScope(token, challenge));
        response = await send();
        if (response.status === 403) {
          await response.body?.cancel().catch(() => {});
          throw new AuthError(
            'insufficient_scope',
            `${url} still refuses the token after step-up (HTTP 403)`,
          );
        }
      }
    }
    return response;
  };
  // `init` (a request deadline included) reaches `base`: a deadline-aware base makes this one so.
  return isDeadlineAware(base) ? markDeadlineAware(authFetch) : authFetch;
}
