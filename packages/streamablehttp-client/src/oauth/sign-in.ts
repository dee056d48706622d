/**
 * Getting new tokens with the session's grant: the browser sign-in (the
 * authorization-code grant through the loopback callback) or a grant without
 * a browser (`client_credentials`, `id_jag`, `jwt_bearer`). Either writes the
 * store only on success, with the client and the DPoP key that got the tokens.
 */
import * as oauth from 'oauth4webapi';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type {
  StoredClient,
  StoredCredentials,
  StoredDPoPKey,
  StoredTokens,
  TokenStore,
} from '../store/types.js';
import { STORE_FORMAT_VERSION } from '../store/types.js';
import { authorizationCodeGrant } from './authorization-code.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { announceSignIn } from './browser.js';
import { startCallbackServer } from './callback-server.js';
import type { BearerChallenge } from './challenge.js';
import type { Discovery } from './discovery.js';
import type { DPoPKeys } from './dpop.js';
import { machineGrant, type MachineGrant } from './machine-grants.js';
import type { OAuthHttp } from './oauth4.js';
import { staticClientRecord } from './registration.js';
import { OFFLINE_ACCESS, selectScope, wantsOfflineAccess, type ScopeChoice } from './scope-selection.js';
import { portOf, scopeSet } from './session-helpers.js';
import type { OAuthGrant, OAuthSessionOptions } from './session-options.js';
import { SignInClients } from './sign-in-client.js';
import { toStoredTokens } from './token-record.js';

const DEFAULT_AUTH_TIMEOUT_MS = 5 * 60_000;

/** What a sign-in needs from its session. */
export interface SignInContext {
  /** The MCP server (its URL's `href`). */
  server: string;
  opts: OAuthSessionOptions;
  grant: OAuthGrant;
  store: TokenStore;
  http: OAuthHttp;
  clock: Clock;
  log: Logger;
  dpop: DPoPKeys;
  /** The session's (cached) discovery. */
  discover: (challenge?: BearerChallenge) => Promise<Discovery>;
  /** The client's authentication at `as`'s token endpoint. */
  clientAuth: (client: StoredClient, as: AuthorizationServerMetadata) => Promise<oauth.ClientAuth>;
  /** Called when `client_secret_basic` was refused and `client_secret_post` is tried. */
  onBasicRefused: (as: AuthorizationServerMetadata, reason: string) => void;
}

/** What a sign-in asks for. */
export interface SignInRequest {
  /** The scopes the server needs now (a step-up); asked for with those asked for earlier. */
  scope?: string;
  /** Sent as given, instead of the scope selection (an explicit `login --scope`). */
  exactScope?: string;
  challenge?: BearerChallenge;
}

/** New tokens for one session; call its methods with the store's lock held. */
export class SignIn {
  /** The client of each browser sign-in, and a registration not stored yet. */
  readonly clients: SignInClients;

  constructor(private readonly c: SignInContext) {
    this.clients = new SignInClients({ opts: c.opts, http: c.http, clock: c.clock, log: c.log });
  }

  /** Tokens with the session's grant, stored, and the issuer that gave them. */
  run(req: SignInRequest): Promise<{ tokens: StoredTokens; issuer: string }> {
    return this.c.grant === 'authorization_code' ? this.authorizationCode(req) : this.machine(req);
  }

  /** The authorization-code flow with PKCE in the browser. */
  private async authorizationCode(req: SignInRequest): Promise<{ tokens: StoredTokens; issuer: string }> {
    const { c } = this;
    const d = await c.discover(req.challenge);
    const as = d.authorizationServer;
    const rec = await c.store.get(c.server, d.issuer);
    const choice = this.scopeFor(req, d, rec, wantsOfflineAccess(c.opts.scope, as));
    const { scope } = choice;
    const pinned = c.opts.callbackPort;
    const cb = await startCallbackServer({
      port:
        pinned ?? portOf(this.clients.pendingClient?.redirect_uris[0] ?? rec?.client?.redirect_uris[0]) ?? 0,
      fallbackToFreePort: pinned === undefined,
    });
    try {
      const client = await this.clients.ensure(d, rec, cb.redirectUri, scope);
      const proof = await c.dpop.forTokenRequest(as, rec?.dpop_key);
      try {
        const tokens = await authorizationCodeGrant({
          as,
          client,
          callback: cb,
          resource: d.resource,
          scope,
          dpop: proof?.handle,
          http: c.http,
          announce: (url) => announceSignIn(url, c.opts, c.log),
          timeoutMs: c.opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
          clientAuth: () => c.clientAuth(client, as),
          onBasicRefused: (reason) => c.onBasicRefused(as, reason),
          finish: (tr) => this.store(d, rec, client, tr, choice, proof?.key),
          successMessage: `mcp-streamablehttp-client is signed in to ${c.server}.`,
        });
        this.clients.signedIn();
        c.log.info('logged in', { issuer: d.issuer, scope: tokens.scope, expires_at: tokens.expires_at });
        return { tokens, issuer: d.issuer };
      } catch (err) {
        await this.clients.dropUnused(client, rec);
        throw err;
      }
    } finally {
      await cb.close();
    }
  }

  /** The grants without a browser (`client_credentials`, `id_jag`, `jwt_bearer`). */
  private async machine(req: SignInRequest): Promise<{ tokens: StoredTokens; issuer: string }> {
    const { c } = this;
    const d = await c.discover(req.challenge);
    const as = d.authorizationServer;
    const rec = await c.store.get(c.server, d.issuer);
    // Without a browser, `offline_access` only when configured (no refresh token is expected).
    const choice = this.scopeFor(req, d, rec, scopeSet(c.opts.scope).has(OFFLINE_ACCESS));
    const { scope } = choice;
    let client: StoredClient | undefined;
    if (c.opts.staticClient) {
      client = staticClientRecord(c.opts.staticClient, '', as);
      client.redirect_uris = [];
    }
    const proof = await c.dpop.forTokenRequest(as, rec?.dpop_key);
    const tr = await machineGrant({
      grant: c.grant as MachineGrant,
      as,
      resource: d.resource,
      scope,
      client,
      auth: client ? await c.clientAuth(client, as) : oauth.None(),
      identityProvider: c.opts.identityProvider,
      workloadToken: c.opts.workloadToken,
      dpop: proof?.handle,
      http: c.http,
      log: c.log,
      onBasicRefused: (reason) => c.onBasicRefused(as, reason),
    });
    const tokens = await this.store(d, rec, client, tr, choice, proof?.key);
    c.log.info('obtained an access token', {
      grant: c.grant,
      issuer: d.issuer,
      scope: tokens.scope,
      token_type: tokens.token_type,
      expires_at: tokens.expires_at,
    });
    return { tokens, issuer: d.issuer };
  }

  /**
   * The scope of a sign-in at `d`'s authorization server (see {@link selectScope}): the scopes
   * asked for earlier there count only while the resource is the same.
   */
  private scopeFor(
    req: SignInRequest,
    d: Discovery,
    rec: StoredCredentials | undefined,
    offlineAccess: boolean,
  ): ScopeChoice {
    return selectScope({
      exact: req.exactScope,
      wanted: req.scope ?? this.c.opts.scope ?? d.scope,
      requested: rec?.resource === d.resource ? rec.requested_scope : undefined,
      offlineAccess,
    });
  }

  /**
   * Stores the tokens of a successful grant (with the client and the DPoP key that got them, and
   * the scopes asked for). A response without a refresh token keeps the stored one when it is
   * usable with what is stored now (same client, same DPoP key, same resource), as after a refresh
   * that returns none (RFC 6749 §6: the old refresh token is discarded only for a new one). Some
   * providers issue a refresh token only at the first consent; the grant it belongs to lives on.
   */
  private async store(
    d: Discovery,
    rec: StoredCredentials | undefined,
    client: StoredClient | undefined,
    tr: oauth.TokenEndpointResponse,
    choice: ScopeChoice,
    dpopKey: StoredDPoPKey | undefined,
  ): Promise<StoredTokens> {
    const { c } = this;
    const { scope, requested } = choice;
    const kept = keptRefreshToken(rec, d, client, dpopKey);
    const fallback = { ...(scope ? { scope } : {}), ...(kept ? { refresh_token: kept } : {}) };
    const tokens = toStoredTokens(tr, fallback, c.clock.now());
    if (kept && !tr.refresh_token) c.log.debug('no refresh token in the answer; keeping the stored one');
    await c.store.set({
      version: STORE_FORMAT_VERSION,
      server: c.server,
      issuer: d.issuer,
      resource: d.resource,
      ...(client ? { client } : {}),
      tokens,
      ...(dpopKey ? { dpop_key: dpopKey } : {}),
      ...(requested ? { requested_scope: requested } : {}),
      updated_at: c.clock.now(),
    });
    if (dpopKey) c.dpop.stored(dpopKey);
    return tokens;
  }
}

/**
 * The stored refresh token, when a new grant's tokens may keep it: the same client got them, with
 * the same DPoP key (a DPoP-bound refresh token works only with its key, RFC 9449 §5), for the
 * same resource.
 */
function keptRefreshToken(
  rec: StoredCredentials | undefined,
  d: Discovery,
  client: StoredClient | undefined,
  dpopKey: StoredDPoPKey | undefined,
): string | undefined {
  const refresh = rec?.tokens?.refresh_token;
  if (!refresh || !client || rec.client?.client_id !== client.client_id) return undefined;
  if (rec.resource !== d.resource) return undefined;
  // The sign-in reuses the stored key object (`DPoPKeys.forTokenRequest`): identity is sameness.
  if (rec.dpop_key !== dpopKey) return undefined;
  return refresh;
}
