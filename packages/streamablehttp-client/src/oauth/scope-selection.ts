/**
 * The `scope` of each authorization request (MCP 2026-07-28 authorization,
 * "Scope Selection Strategy", "Step-Up Authorization Flow" and "Refresh
 * Tokens"): the scopes the server wants now, plus every scope asked for
 * earlier at the same authorization server for the same resource, plus
 * `offline_access` when refresh tokens are wanted and the server offers it.
 */
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { scopeSet } from './session-helpers.js';

/** The scope that asks for a refresh token (OpenID Connect Core §11); not a resource scope. */
export const OFFLINE_ACCESS = 'offline_access';

/** What one authorization request asks for, and what to remember for the next one. */
export interface ScopeChoice {
  /** The request's `scope` parameter; `undefined` to send none. */
  scope: string | undefined;
  /** The resource scopes asked for so far (without `offline_access`), stored with the credentials. */
  requested: string | undefined;
}

const joined = (set: Set<string>): string | undefined => (set.size ? [...set].join(' ') : undefined);

/**
 * Whether to add `offline_access`: as the user configured it when they set a
 * scope themselves (`--scope` is sent as given), else when the authorization
 * server lists it in `scopes_supported`. MCP 2026-07-28, "Refresh Tokens":
 * clients that desire refresh tokens "**MAY** add `offline_access` to the
 * `scope` parameter of the authorization and token requests when the
 * Authorization Server metadata contains it in `scopes_supported`" (SEP-2207).
 */
export function wantsOfflineAccess(
  configured: string | undefined,
  as: Pick<AuthorizationServerMetadata, 'scopes_supported'>,
): boolean {
  if (configured !== undefined) return scopeSet(configured).has(OFFLINE_ACCESS);
  return as.scopes_supported?.includes(OFFLINE_ACCESS) ?? false;
}

/**
 * The scope of an authorization request.
 *
 * - `exact` (an explicit `login --scope`) is sent as given, and becomes what
 *   is remembered.
 * - Otherwise the request asks for `wanted` (the step-up scopes, the
 *   configured scope, or the discovered one) together with `requested`, every
 *   scope asked for earlier at this authorization server for this resource.
 *   MCP 2026-07-28, "Scope Selection Strategy": "When re-authorizing, clients
 *   **SHOULD** include these scopes alongside any previously granted scopes to
 *   avoid losing permissions needed for other operations"; "Step-Up
 *   Authorization Flow": "Determine required scopes by computing the union of
 *   the client's previously requested scope set and the scopes from the
 *   current challenge". So a token that expired without a refresh token, or a
 *   401 naming fewer scopes, never loses what an earlier step-up gained.
 * - `offline_access` is added on every request when `offlineAccess` (see
 *   {@link wantsOfflineAccess}), step-ups included, so a server that issues
 *   refresh tokens only for it keeps issuing them.
 */
export function selectScope(o: {
  exact?: string | undefined;
  wanted: string | undefined;
  requested: string | undefined;
  offlineAccess: boolean;
}): ScopeChoice {
  if (o.exact !== undefined) {
    const resource = scopeSet(o.exact);
    resource.delete(OFFLINE_ACCESS);
    return { scope: o.exact || undefined, requested: joined(resource) };
  }
  const resource = new Set([...scopeSet(o.requested), ...scopeSet(o.wanted)]);
  resource.delete(OFFLINE_ACCESS);
  const scope = new Set(resource);
  if (o.offlineAccess) scope.add(OFFLINE_ACCESS);
  return { scope: joined(scope), requested: joined(resource) };
}
