/**
 * OpenID Connect Core §11 `offline_access`, as MCP 2026-07-28 uses it
 * (SEP-2207): a client MAY add it to `scope` to ask for a refresh token when
 * the authorization server lists it in `scopes_supported`. It is not a
 * resource scope: it never reaches an access token, a protected resource's
 * `scopes_supported` or a `WWW-Authenticate` challenge. Whether a refresh
 * token is issued stays the server's decision (here: the client registered
 * the `refresh_token` grant), with or without `offline_access`.
 */
export const OFFLINE_ACCESS = 'offline_access';

/** `scopes` without `offline_access`. */
export const withoutOfflineAccess = (scopes: readonly string[]): string[] =>
  scopes.filter((s) => s !== OFFLINE_ACCESS);
