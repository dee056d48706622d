/** Token endpoint answers as stored tokens, and when stored tokens are due for a refresh. */
import type * as oauth from 'oauth4webapi';
import type { StoredTokens } from '../store/types.js';

/**
 * The stored form of a token response obtained at `now`: `expires_in` becomes
 * an absolute `expires_at`; a refresh token or scope the response leaves out
 * comes from `fallback` (the refresh grant may omit both, RFC 6749 §6).
 */
export function toStoredTokens(
  tr: oauth.TokenEndpointResponse,
  fallback: { refresh_token?: string | undefined; scope?: string | undefined },
  now: number,
): StoredTokens {
  const t: StoredTokens = { access_token: tr.access_token, token_type: tr.token_type, obtained_at: now };
  const refresh = tr.refresh_token ?? fallback.refresh_token;
  if (refresh) t.refresh_token = refresh;
  if (typeof tr.expires_in === 'number') t.expires_at = now + tr.expires_in * 1000;
  const scope = tr.scope ?? fallback.scope;
  if (scope) t.scope = scope;
  if (tr.id_token) t.id_token = tr.id_token;
  return t;
}

/** Default of `refreshSkewMs`: refresh this long before expiry. */
export const DEFAULT_REFRESH_SKEW_MS = 60_000;

/** Whether `t` expires within `skewMs` of `now` (a token without `expires_at` never does). */
export function isExpiring(t: StoredTokens, skewMs: number, now: number): boolean {
  return t.expires_at !== undefined && t.expires_at - skewMs <= now;
}
