/** The refresh-token grant (OAuth 2.1 §4.3), with the RFC 8707 resource and DPoP (RFC 9449 §5). */
import * as oauth from 'oauth4webapi';
import type { Clock } from '../clock.js';
import { AuthError } from '../errors.js';
import type { Logger } from '../log.js';
import type {
  StoredClient,
  StoredCredentials,
  StoredDPoPKey,
  StoredTokens,
  TokenStore,
} from '../store/types.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { withDPoPNonceRetry } from './dpop.js';
import {
  requestOptions,
  toAuthError,
  toOAuthClient,
  withClientAuthFallback,
  type OAuthHttp,
} from './oauth4.js';
import { toStoredTokens } from './token-record.js';

/** What one refresh needs besides the stored record. */
export interface RefreshContext {
  store: TokenStore;
  http: OAuthHttp;
  clock: Clock;
  log: Logger;
  /** The metadata of the authorization server that issued a record's tokens. */
  authorizationServer: (issuer: string) => Promise<AuthorizationServerMetadata>;
  /** The proof handle of a stored DPoP key. */
  dpopHandle: (key: StoredDPoPKey) => Promise<oauth.DPoPHandle>;
  /** The client's authentication at `as`'s token endpoint. */
  clientAuth: (client: StoredClient, as: AuthorizationServerMetadata) => Promise<oauth.ClientAuth>;
  /** Called when `client_secret_basic` was refused and `client_secret_post` is tried. */
  onBasicRefused: (as: AuthorizationServerMetadata, reason: string) => void;
}

/**
 * Refreshes `rec`'s tokens and stores them; call with the store's lock held.
 * `undefined` when there is nothing to refresh, or when the server refuses the
 * grant (`invalid_grant`) or the client (`invalid_client`): the tokens are then
 * dropped from the store (and a dynamically registered client the server no
 * longer knows with them), so the next sign-in starts afresh.
 */
export async function refreshStoredTokens(
  rec: StoredCredentials,
  c: RefreshContext,
): Promise<StoredTokens | undefined> {
  const client = rec.client;
  const refreshToken = rec.tokens?.refresh_token;
  if (!client || !refreshToken) return undefined;
  const as = await c.authorizationServer(rec.issuer);
  // A DPoP-bound refresh token (RFC 9449 §5) is usable only with the key it is bound to.
  const dpop = rec.dpop_key ? await c.dpopHandle(rec.dpop_key) : undefined;
  let tokens: StoredTokens;
  try {
    const tr = await withClientAuthFallback(
      client,
      'token refresh',
      (auth) =>
        withDPoPNonceRetry(dpop, async () =>
          oauth.processRefreshTokenResponse(
            as,
            toOAuthClient(client),
            await oauth.refreshTokenGrantRequest(as, toOAuthClient(client), auth, refreshToken, {
              ...requestOptions(c.http, as.token_endpoint, dpop),
              ...(rec.resource ? { additionalParameters: { resource: rec.resource } } : {}),
            }),
          ),
        ),
      (reason) => c.onBasicRefused(as, reason),
      await c.clientAuth(client, as),
    );
    tokens = toStoredTokens(tr, { refresh_token: refreshToken, scope: rec.tokens?.scope }, c.clock.now());
  } catch (err) {
    const e = toAuthError(err, 'token refresh');
    if (e instanceof AuthError && (e.code === 'invalid_grant' || e.code === 'invalid_client')) {
      c.log.warn('refresh refused; a new login is needed', { error: e.code });
      const next: StoredCredentials = { ...rec, updated_at: c.clock.now() };
      delete next.tokens;
      // A client the server no longer knows is registered again at the next login.
      if (e.code === 'invalid_client' && client.source === 'dcr') delete next.client;
      await c.store.set(next);
      return undefined;
    }
    throw e;
  }
  await c.store.set({ ...rec, tokens, updated_at: c.clock.now() });
  c.log.info('refreshed access token', { issuer: rec.issuer, expires_at: tokens.expires_at });
  return tokens;
}
