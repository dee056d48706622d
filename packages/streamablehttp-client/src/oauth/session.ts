import type * as oauth from 'oauth4webapi';
import { systemClock, type Clock } from '../clock.js';
import { AuthError, UsageError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';
import { silentLogger, type Logger } from '../log.js';
import { FileTokenStore } from '../store/file.js';
import type { StoredClient, StoredCredentials, StoredTokens, TokenStore } from '../store/types.js';
import { discoverAuthorizationServer, type AuthorizationServerMetadata } from './authorization-server.js';
import type { BearerChallenge } from './challenge.js';
import { discover, type Discovery } from './discovery.js';
import { DPoPKeys, isDPoPBound } from './dpop.js';
import { forgetOtherAuthorizationServers } from './issuer-binding.js';
import { clientAuthFor, loopbackOnlyInsecure, type OAuthHttp } from './oauth4.js';
import { privateKeyJwtAuth } from './private-key-jwt.js';
import { refreshStoredTokens, type RefreshContext } from './refresh.js';
import {
  deleteClientConfiguration,
  readClientConfiguration,
  updateClientConfiguration,
} from './registration-management.js';
import { revokeRefreshToken } from './revocation.js';
import { mergeUpdatedClient } from './session-helpers.js';
import { checkSessionOptions, type OAuthGrant, type OAuthSessionOptions } from './session-options.js';
import { SignIn, type SignInRequest } from './sign-in.js';
import { authStatus, type AuthStatus } from './status.js';
import { holdsScopes, stepUpScope } from './step-up.js';
import { DEFAULT_REFRESH_SKEW_MS, isExpiring } from './token-record.js';

export type { OAuthGrant, OAuthSessionOptions } from './session-options.js';
export type { AuthStatus } from './status.js';

/**
 * One MCP server's OAuth state: discovery, registration, login, refresh, RFC
 * 7592 management, on top of a {@link TokenStore}. Refresh and login run once
 * at a time, in this process (shared promises) and across processes (the
 * store's lock), so two bridges never spend the same rotating refresh token.
 */
export class OAuthSession {
  readonly serverUrl: URL;
  readonly store: TokenStore;
  private readonly opts: OAuthSessionOptions;
  private readonly http: OAuthHttp;
  private readonly clock: Clock;
  private readonly log: Logger;
  private discovery: Discovery | undefined;
  private issuer: string | undefined;
  private readonly asCache = new Map<string, AuthorizationServerMetadata>();
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  /** New tokens with the session's grant. */
  private readonly signIn: SignIn;
  private readonly grant: OAuthGrant;
  private readonly dpop: DPoPKeys;
  /** How the last access token sent is presented (its DPoP key never changes): looked up once per token. */
  private presented: { token: string; dpop: Promise<oauth.DPoPHandle | undefined> } | undefined;
  private readonly refreshContext: RefreshContext;

  constructor(options: OAuthSessionOptions) {
    const { opts, grant } = checkSessionOptions(options);
    this.grant = grant;
    this.dpop = new DPoPKeys(opts.dpop);
    this.opts = opts;
    this.serverUrl = new URL(opts.serverUrl);
    this.serverUrl.hash = '';
    this.store = opts.store ?? new FileTokenStore();
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.http = { fetch: opts.fetch ?? fetch, allowInsecure: opts.allowInsecure ?? loopbackOnlyInsecure };
    this.signIn = new SignIn({
      server: this.server,
      opts,
      grant,
      store: this.store,
      http: this.http,
      clock: this.clock,
      log: this.log,
      dpop: this.dpop,
      discover: (challenge) => this.discover(challenge),
      clientAuth: (client, as) => this.clientAuth(client, as),
      onBasicRefused: (as, reason) => this.basicRefused(as, reason),
    });
    this.refreshContext = {
      store: this.store,
      http: this.http,
      clock: this.clock,
      log: this.log,
      authorizationServer: (issuer) => this.authorizationServer(issuer),
      dpopHandle: (key) => this.dpop.handle(key),
      clientAuth: (client, as) => this.clientAuth(client, as),
      onBasicRefused: (as, reason) => this.basicRefused(as, reason),
    };
  }

  private get server(): string {
    return this.serverUrl.href;
  }

  /** The fetch function OAuth requests use. */
  get fetch(): FetchLike {
    return this.http.fetch;
  }

  /**
   * Runs discovery (RFC 9728 → RFC 8414/OIDC). Cached; a challenge naming
   * other metadata, or `force` (every 401), runs it again.
   */
  async discover(challenge?: BearerChallenge, force = false): Promise<Discovery> {
    const cached = this.discovery;
    if (
      cached &&
      !force &&
      (!challenge?.resource_metadata || challenge.resource_metadata === cached.resourceMetadataUrl)
    ) {
      return challenge?.scope ? { ...cached, scope: challenge.scope } : cached;
    }
    const d = await discover(this.serverUrl, {
      fetch: this.http.fetch,
      challenge,
      log: this.log,
      authorizationCode: this.grant === 'authorization_code',
    });
    this.discovery = d;
    this.asCache.set(d.issuer, d.authorizationServer);
    if (d.resourceMetadata) {
      // Issuer binding (SEP-2352): nothing of another authorization server is sent to this one.
      this.signIn.clients.boundTo(d.issuer);
      const pinned = this.opts.staticClient?.client_id;
      await forgetOtherAuthorizationServers(this.store, this.server, d.issuer, pinned, this.log);
    }
    this.issuer = d.issuer;
    this.log.debug('discovered authorization server', {
      issuer: d.issuer,
      resource: d.resource,
      resourceMetadataUrl: d.resourceMetadataUrl,
    });
    return d;
  }

  private async authorizationServer(issuer: string): Promise<AuthorizationServerMetadata> {
    const cached = this.asCache.get(issuer);
    if (cached) return cached;
    try {
      const { metadata } = await discoverAuthorizationServer(issuer, { fetch: this.http.fetch });
      this.asCache.set(issuer, metadata);
      return metadata;
    } catch (err) {
      // A 2025-03-26 server (no RFC 9728 document) is found from the MCP server, not its issuer.
      const d = await this.discover().catch(() => undefined);
      if (d?.issuer === issuer) return d.authorizationServer;
      throw err;
    }
  }

  private basicRefused(as: AuthorizationServerMetadata, reason: string): void {
    this.log.warn('token endpoint refused client_secret_basic; retrying with client_secret_post', {
      token_endpoint: as.token_endpoint,
      reason,
    });
  }

  /** Client authentication at `as`'s token endpoint: the private key for `private_key_jwt`, else from the record. */
  private async clientAuth(client: StoredClient, as: AuthorizationServerMetadata): Promise<oauth.ClientAuth> {
    if (client.token_endpoint_auth_method === 'private_key_jwt' && this.opts.privateKey) {
      return privateKeyJwtAuth(this.opts.privateKey, as.token_endpoint_auth_signing_alg_values_supported);
    }
    return clientAuthFor(client);
  }

  /** The stored record in use: the discovered issuer's, else the most recent one for this server. */
  async credentials(): Promise<StoredCredentials | undefined> {
    if (this.issuer) return this.store.get(this.server, this.issuer);
    const [latest] = await this.store.list(this.server);
    if (latest) this.issuer = latest.issuer;
    return latest;
  }

  private expiring(t: StoredTokens): boolean {
    return isExpiring(t, this.opts.refreshSkewMs ?? DEFAULT_REFRESH_SKEW_MS, this.clock.now());
  }

  private once(key: string, fn: () => Promise<string | undefined>): Promise<string | undefined> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * A usable access token, refreshed first when it is about to expire; never
   * starts a login. `undefined` when there is none.
   */
  async accessToken(): Promise<string | undefined> {
    const rec = await this.credentials();
    const t = rec?.tokens;
    if (!t) return undefined;
    if (!this.expiring(t)) return t.access_token;
    if (!t.refresh_token) return undefined;
    return this.once('refresh', () =>
      this.store.withLock(this.server, async () => {
        const now = await this.credentials();
        if (now?.tokens && now.tokens.access_token !== t.access_token && !this.expiring(now.tokens)) {
          return now.tokens.access_token;
        }
        if (!now?.tokens?.refresh_token) return undefined;
        return (await this.refreshLocked(now))?.access_token;
      }),
    );
  }

  /**
   * The DPoP proof handle for presenting `token` (RFC 9449 §7) when it is the
   * stored, DPoP-bound token; `undefined` for a Bearer token.
   * @throws AuthError when the token is DPoP-bound but its key is not stored.
   */
  dpopFor(token: string): Promise<oauth.DPoPHandle | undefined> {
    // Every MCP request asks; the stored record is read once per access token, not per request.
    if (this.presented?.token !== token) this.presented = { token, dpop: this.lookUpDPoP(token) };
    return this.presented.dpop;
  }

  private async lookUpDPoP(token: string): Promise<oauth.DPoPHandle | undefined> {
    const rec = await this.credentials();
    if (rec?.tokens?.access_token !== token || !isDPoPBound(rec.tokens)) return undefined;
    if (!rec.dpop_key)
      throw new AuthError(
        'invalid_token',
        `the DPoP-bound token for ${this.server} has no stored key; log in again`,
      );
    return this.dpop.handle(rec.dpop_key);
  }

  /**
   * Called after a 401: returns a token to retry with. Uses a token another
   * process stored meanwhile, else refreshes, else (when interactive) logs in.
   */
  async handleUnauthorized(sentToken: string | undefined, challenge?: BearerChallenge): Promise<string> {
    const token = await this.once('unauthorized', () =>
      this.store.withLock(this.server, async () => {
        // Discovery again: the resource may have moved to another authorization server (SEP-2352).
        // Without `resource_metadata` in the challenge, the well-known URLs are read again, as at
        // first discovery (a server may rely on them): a move is found either way.
        await this.discover(challenge, true);
        const rec = await this.credentials();
        const t = rec?.tokens;
        if (t && t.access_token !== sentToken && !this.expiring(t)) return t.access_token;
        if (rec && t?.refresh_token) {
          const refreshed = await this.refreshLocked(rec);
          if (refreshed && refreshed.access_token !== sentToken) return refreshed.access_token;
        }
        return (await this.obtainLocked({ challenge }, 'the server asks for authorization')).access_token;
      }),
    );
    return token!;
  }

  /**
   * Called after a 403 `insufficient_scope`: logs in again asking for the
   * scopes held plus those the challenge names (step-up authorization).
   */
  async handleInsufficientScope(sentToken: string | undefined, challenge: BearerChallenge): Promise<string> {
    const token = await this.once('step-up', () =>
      this.store.withLock(this.server, async () => {
        const rec = await this.credentials();
        const t = rec?.tokens;
        if (t && t.access_token !== sentToken && !this.expiring(t) && holdsScopes(t.scope, challenge.scope)) {
          return t.access_token;
        }
        const { scope, needed } = stepUpScope(this.server, t?.scope, challenge.scope);
        this.log.info('step-up authorization', { scope });
        const why = `the server needs more scopes (${needed})`;
        return (await this.obtainLocked({ challenge, scope }, why)).access_token;
      }),
    );
    return token!;
  }

  private requireInteractive(why: string): void {
    if (this.opts.interactive === false) {
      throw new AuthError(
        'login_required',
        `${why} and no usable token is stored; run: mcp-streamablehttp-client login --url ${this.server}`,
      );
    }
  }

  /**
   * Gets tokens now with the session's grant (the authorization-code flow:
   * browser + loopback callback) and stores them. `scope` is sent as given;
   * without it the request asks for the discovered (or configured) scope plus
   * every scope asked for earlier at this authorization server, and
   * `offline_access` when the server lists it.
   */
  async login(opts: { scope?: string } = {}): Promise<StoredTokens> {
    let tokens: StoredTokens | undefined;
    await this.store.withLock(this.server, async () => {
      tokens = await this.signInLocked(opts.scope === undefined ? {} : { exactScope: opts.scope });
      return undefined;
    });
    return tokens!;
  }

  /** Refreshes now, whatever the expiry. Throws when there is nothing to refresh or the server refuses. */
  async refresh(): Promise<StoredTokens> {
    let out: StoredTokens | undefined;
    await this.store.withLock(this.server, async () => {
      const rec = await this.credentials();
      if (!rec?.tokens?.refresh_token) {
        throw new AuthError('login_required', `no refresh token stored for ${this.server}; log in first`);
      }
      out = await this.refreshLocked(rec);
      return undefined;
    });
    if (!out)
      throw new AuthError(
        'invalid_grant',
        `the refresh token for ${this.server} is no longer valid; log in again`,
      );
    return out;
  }

  /** Refresh grant; call with the lock held. `undefined` when the grant or the client is dead. */
  private refreshLocked(rec: StoredCredentials): Promise<StoredTokens | undefined> {
    return refreshStoredTokens(rec, this.refreshContext);
  }

  /**
   * A new token with the session's grant; call with the lock held. The
   * browser flow only when the session may start one by itself.
   */
  private obtainLocked(req: SignInRequest, why: string): Promise<StoredTokens> {
    if (this.grant === 'authorization_code') this.requireInteractive(why);
    return this.signInLocked(req);
  }

  /** New tokens with the session's grant (see `sign-in.ts`); call with the lock held. */
  private async signInLocked(req: SignInRequest): Promise<StoredTokens> {
    const { tokens, issuer } = await this.signIn.run(req);
    this.issuer = issuer;
    return tokens;
  }

  /** Who we are at this server: token expiry, scopes, client. Makes no network request. */
  async status(): Promise<AuthStatus> {
    const rec = await this.credentials();
    const storedAt =
      this.store instanceof FileTokenStore && rec ? this.store.fileFor(rec.server, rec.issuer) : undefined;
    return authStatus(this.server, rec, storedAt, this.clock.now());
  }

  /**
   * Forgets this server's credentials (every issuer). Revokes the refresh
   * token first when the AS has a revocation endpoint (best effort).
   */
  async logout(): Promise<{ removed: number }> {
    return this.store.withLock(this.server, async () => {
      const records = await this.store.list(this.server);
      for (const rec of records) {
        const rt = rec.tokens?.refresh_token;
        if (!rt || !rec.client) continue;
        try {
          const as = await this.authorizationServer(rec.issuer);
          if (!as.revocation_endpoint) continue;
          await revokeRefreshToken(as, rec.client, rt, this.http);
        } catch (err) {
          this.log.warn('could not revoke the refresh token', {
            reason: err instanceof Error ? err.message : String(err),
          });
        }
      }
      await this.store.delete(this.server);
      this.issuer = undefined;
      return { removed: records.length };
    });
  }

  private async registeredClient(): Promise<{ rec: StoredCredentials; client: StoredClient }> {
    const rec = await this.credentials();
    if (!rec?.client)
      throw new UsageError(`no client registration stored for ${this.server}; run login first`);
    return { rec, client: rec.client };
  }

  /** RFC 7592 read: the registration as the AS has it now. */
  async clientInfo(): Promise<Record<string, unknown>> {
    const { client } = await this.registeredClient();
    return readClientConfiguration(this.http.fetch, client);
  }

  /** RFC 7592 update: changes fields (`null` removes one) and stores what the AS answers. */
  async updateClient(changes: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.store.withLock(this.server, async () => {
      const { rec, client } = await this.registeredClient();
      const updated = await updateClientConfiguration(this.http.fetch, client, changes);
      const next = mergeUpdatedClient(client, updated);
      await this.store.set({ ...rec, client: next, updated_at: this.clock.now() });
      return updated;
    });
  }

  /** RFC 7592 delete: removes the registration at the AS and the stored credentials. */
  async deleteClient(): Promise<void> {
    await this.store.withLock(this.server, async () => {
      const { rec, client } = await this.registeredClient();
      await deleteClientConfiguration(this.http.fetch, client);
      await this.store.delete(rec.server, rec.issuer);
    });
  }
}

/** Creates an {@link OAuthSession} for one MCP server. */
export function createOAuthSession(opts: OAuthSessionOptions): OAuthSession {
  return new OAuthSession(opts);
}
