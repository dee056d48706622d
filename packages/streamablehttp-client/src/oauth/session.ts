import * as oauth from 'oauth4webapi';
import { systemClock, type Clock } from '../clock.js';
import { AuthError, ClientError, UsageError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';
import { silentLogger, type Logger } from '../log.js';
import { FileTokenStore } from '../store/file.js';
import type {
  StoredClient,
  StoredCredentials,
  StoredDPoPKey,
  StoredTokens,
  TokenStore,
} from '../store/types.js';
import { STORE_FORMAT_VERSION } from '../store/types.js';
import { discoverAuthorizationServer, type AuthorizationServerMetadata } from './authorization-server.js';
import { validateAuthorizationResponse } from './authorization-response.js';
import { announceSignIn } from './browser.js';
import { startCallbackServer } from './callback-server.js';
import type { BearerChallenge } from './challenge.js';
import { discover, type Discovery } from './discovery.js';
import { DPoPKeys, isDPoPBound, withDPoPNonceRetry } from './dpop.js';
import type { IdentityProviderOptions } from './id-jag.js';
import { machineGrant } from './machine-grants.js';
import {
  clientAuthFor,
  withClientAuthFallback,
  loopbackOnlyInsecure,
  requestOptions,
  toAuthError,
  toOAuthClient,
  type OAuthHttp,
} from './oauth4.js';
import { privateKeyJwtAuth, type PrivateKeyMaterial } from './private-key-jwt.js';
import {
  deleteClientConfiguration,
  readClientConfiguration,
  updateClientConfiguration,
} from './registration-management.js';
import {
  cimdClientRecord,
  registerClient,
  staticClientRecord,
  supportsCimd,
  type StaticClient,
} from './registration.js';
import {
  decodeJwtClaims,
  mergeUpdatedClient,
  portOf,
  scopeSet,
  stringField,
  withOfflineAccess,
} from './session-helpers.js';
import type { WorkloadTokenSource } from './workload.js';

/**
 * How a session gets tokens: `authorization_code` (browser sign-in with PKCE),
 * `client_credentials` (OAuth 2.1 §4.2, MCP SEP-1046: the client acts for
 * itself) or `id_jag` (MCP SEP-990: an ID-JAG from the enterprise IdP by RFC
 * 8693 token exchange, then the RFC 7523 JWT bearer grant) or `jwt_bearer`
 * (MCP SEP-1933 workload identity: the platform's JWT in the RFC 7523 grant).
 * The last three need no browser; the first two of them a pre-registered client.
 */
export type OAuthGrant = 'authorization_code' | 'client_credentials' | 'id_jag' | 'jwt_bearer';

/** Options of {@link createOAuthSession}. Every field but `serverUrl` has a default. */
export interface OAuthSessionOptions {
  /** The MCP endpoint. */
  serverUrl: string | URL;
  /** Where credentials live. Default: {@link FileTokenStore} in the user's config folder. */
  store?: TokenStore;
  /** Scopes to ask for, overriding the challenge's and the metadata's. */
  scope?: string;
  /** A pre-registered client: used instead of any registration. */
  staticClient?: StaticClient;
  /** How tokens are obtained. Default `authorization_code`. */
  grant?: OAuthGrant;
  /**
   * The pre-registered client's private key: it then authenticates with
   * `private_key_jwt` (RFC 7523 §2.2) at the token endpoint. Never stored.
   */
  privateKey?: PrivateKeyMaterial;
  /** The enterprise identity provider, for the `id_jag` grant. */
  identityProvider?: IdentityProviderOptions;
  /**
   * The workload's JWT for the `jwt_bearer` grant (RFC 7523): a file, read
   * again on every token request, or a function. Setting it selects that grant.
   */
  workloadToken?: WorkloadTokenSource;
  /**
   * DPoP (RFC 9449): `true` binds tokens to a key of this client always,
   * `false` never; default: when the authorization server advertises
   * `dpop_signing_alg_values_supported`. The key (ES256) is stored with the
   * credentials; see `oauth/dpop.ts`.
   */
  dpop?: boolean;
  /** Client ID Metadata Document URL, used when the AS advertises support. */
  clientMetadataUrl?: string;
  /** `client_name` for dynamic registration. Default `mcp-streamablehttp-client`. */
  clientName?: string;
  /** Fixed loopback callback port. Default: the registered one, else any free port; a busy default port falls back to a free one. */
  callbackPort?: number;
  /** Open the system browser on login. Default true. */
  openBrowser?: boolean;
  /** Called with the authorization URL on every login. Default: print it to stderr. */
  onAuthorizationUrl?: (url: string) => void | Promise<void>;
  /** How long to wait for the browser to come back. Default 5 minutes. */
  authTimeoutMs?: number;
  /** May the session start a login by itself (on 401 with no usable token)? Default true. */
  interactive?: boolean;
  /** Refresh this long before expiry. Default 60 s. */
  refreshSkewMs?: number;
  /** Which `http:` URLs OAuth may use. Default: loopback hosts only. */
  allowInsecure?: (url: string) => boolean;
  fetch?: FetchLike;
  clock?: Clock;
  logger?: Logger;
}

/** What `status` reports. */
export interface AuthStatus {
  server: string;
  loggedIn: boolean;
  issuer?: string;
  resource?: string;
  clientId?: string;
  clientSource?: StoredClient['source'];
  scope?: string;
  /** ISO time the access token expires. */
  expiresAt?: string;
  expired?: boolean;
  hasRefreshToken: boolean;
  /** `DPoP` for a token bound to this client's key (RFC 9449), else `Bearer`. */
  tokenType?: 'Bearer' | 'DPoP';
  /** Claims of the access token when it is a JWT (not verified: display only). */
  claims?: Record<string, unknown>;
  /** Where the credentials are stored (file store only). */
  storedAt?: string;
}

const DEFAULT_AUTH_TIMEOUT_MS = 5 * 60_000;

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
  private pendingClient: StoredClient | undefined;
  /** The issuer {@link pendingClient} is registered at. */
  private pendingClientIssuer: string | undefined;
  private readonly grant: OAuthGrant;
  private readonly dpop: DPoPKeys;
  /** How the last access token sent is presented (its DPoP key never changes): looked up once per token. */
  private presented: { token: string; dpop: Promise<oauth.DPoPHandle | undefined> } | undefined;

  constructor(opts: OAuthSessionOptions) {
    this.grant = opts.grant ?? (opts.workloadToken ? 'jwt_bearer' : 'authorization_code');
    this.dpop = new DPoPKeys(opts.dpop);
    if (opts.privateKey && opts.staticClient && !opts.staticClient.token_endpoint_auth_method) {
      opts = {
        ...opts,
        staticClient: { ...opts.staticClient, token_endpoint_auth_method: 'private_key_jwt' },
      };
    }
    if (opts.privateKey && !opts.staticClient) throw new UsageError('a private key needs a client id');
    if (this.grant === 'jwt_bearer' && !opts.workloadToken)
      throw new UsageError('the jwt_bearer grant needs a workload token');
    if (this.grant !== 'authorization_code' && this.grant !== 'jwt_bearer') {
      const c = opts.staticClient;
      if (!c) throw new UsageError(`the ${this.grant} grant needs a pre-registered client (client id)`);
      if (this.grant === 'client_credentials' && !c.client_secret && !opts.privateKey)
        throw new UsageError('the client_credentials grant needs a client secret or a private key');
      if (this.grant === 'id_jag' && !opts.identityProvider)
        throw new UsageError('the id_jag grant needs the identity provider settings');
    }
    this.opts = opts;
    this.serverUrl = new URL(opts.serverUrl);
    this.serverUrl.hash = '';
    this.store = opts.store ?? new FileTokenStore();
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.http = { fetch: opts.fetch ?? fetch, allowInsecure: opts.allowInsecure ?? loopbackOnlyInsecure };
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
   * other metadata, or `force`, runs it again.
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
    if (d.resourceMetadata) await this.forgetOtherAuthorizationServers(d.issuer);
    this.issuer = d.issuer;
    this.log.debug('discovered authorization server', {
      issuer: d.issuer,
      resource: d.resource,
      resourceMetadataUrl: d.resourceMetadataUrl,
    });
    return d;
  }

  /**
   * Issuer binding (MCP 2026-07-28, SEP-2352): credentials are keyed by the
   * issuer that gave them. When the resource's metadata now names another
   * authorization server, what is stored for the old one (client
   * registration, tokens) and a registration made in this process for it are
   * discarded, never sent to the new one; the next sign-in registers there.
   * A pre-registered client (`staticClient`) stored for the old one is an
   * `authorization_server_changed` error instead: its id means nothing at the new one.
   */
  private async forgetOtherAuthorizationServers(issuer: string): Promise<void> {
    if (this.pendingClientIssuer !== undefined && this.pendingClientIssuer !== issuer) {
      this.pendingClient = undefined;
      this.pendingClientIssuer = undefined;
    }
    const others = (await this.store.list(this.server)).filter((rec) => rec.issuer !== issuer);
    const pinned = this.opts.staticClient?.client_id;
    const moved = others.find((rec) => rec.client?.source === 'static' && rec.client.client_id === pinned);
    if (moved) {
      // Pre-registered credentials belong to one AS: say so rather than try them at another.
      throw new AuthError(
        'authorization_server_changed',
        `${this.server} now names authorization server ${issuer}, but client ${pinned} is registered at ${moved.issuer}; pre-registered credentials are specific to one authorization server (MCP 2026-07-28): register a client at the new one and pass its id`,
      );
    }
    for (const rec of others) {
      this.log.warn(
        'the resource moved to another authorization server; discarding the credentials of the old one',
        {
          server: this.server,
          from: rec.issuer,
          to: issuer,
        },
      );
      await this.store.delete(this.server, rec.issuer);
    }
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
    return (
      t.expires_at !== undefined && t.expires_at - (this.opts.refreshSkewMs ?? 60_000) <= this.clock.now()
    );
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
        if (challenge?.resource_metadata) await this.discover(challenge, true);
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
        const held = scopeSet(rec?.tokens?.scope);
        const needed = scopeSet(challenge.scope);
        const t = rec?.tokens;
        if (t && t.access_token !== sentToken && !this.expiring(t) && [...needed].every((s) => held.has(s))) {
          return t.access_token;
        }
        if (!needed.size) {
          throw new AuthError(
            'insufficient_scope',
            `${this.server} refused the token (insufficient_scope) without naming a scope`,
          );
        }
        const scope = [...new Set([...held, ...needed])].join(' ');
        this.log.info('step-up authorization', { scope });
        const why = `the server needs more scopes (${[...needed].join(' ')})`;
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
   * browser + loopback callback) and stores them.
   */
  async login(opts: { scope?: string } = {}): Promise<StoredTokens> {
    let tokens: StoredTokens | undefined;
    await this.store.withLock(this.server, async () => {
      tokens =
        this.grant === 'authorization_code' ? await this.loginLocked(opts) : await this.grantLocked(opts);
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

  private toStored(
    tr: oauth.TokenEndpointResponse,
    fallback: { refresh_token?: string; scope?: string },
  ): StoredTokens {
    const now = this.clock.now();
    const t: StoredTokens = { access_token: tr.access_token, token_type: tr.token_type, obtained_at: now };
    const refresh = tr.refresh_token ?? fallback.refresh_token;
    if (refresh) t.refresh_token = refresh;
    if (typeof tr.expires_in === 'number') t.expires_at = now + tr.expires_in * 1000;
    const scope = tr.scope ?? fallback.scope;
    if (scope) t.scope = scope;
    if (tr.id_token) t.id_token = tr.id_token;
    return t;
  }

  /** Stores the tokens of a successful grant (with the client and the DPoP key that got them); call with the lock held. */
  private async storeTokens(
    d: Discovery,
    client: StoredClient | undefined,
    tr: oauth.TokenEndpointResponse,
    scope: string | undefined,
    dpopKey: StoredDPoPKey | undefined,
  ): Promise<StoredTokens> {
    const tokens = this.toStored(tr, { ...(scope ? { scope } : {}) });
    await this.store.set({
      version: STORE_FORMAT_VERSION,
      server: this.server,
      issuer: d.issuer,
      resource: d.resource,
      ...(client ? { client } : {}),
      tokens,
      ...(dpopKey ? { dpop_key: dpopKey } : {}),
      updated_at: this.clock.now(),
    });
    if (dpopKey) this.dpop.stored(dpopKey);
    return tokens;
  }

  /** Refresh grant; call with the lock held. `undefined` when the grant or the client is dead. */
  private async refreshLocked(rec: StoredCredentials): Promise<StoredTokens | undefined> {
    const client = rec.client;
    const refreshToken = rec.tokens?.refresh_token;
    if (!client || !refreshToken) return undefined;
    const as = await this.authorizationServer(rec.issuer);
    // A DPoP-bound refresh token (RFC 9449 §5) is usable only with the key it is bound to.
    const dpop = rec.dpop_key ? await this.dpop.handle(rec.dpop_key) : undefined;
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
                ...requestOptions(this.http, as.token_endpoint, dpop),
                ...(rec.resource ? { additionalParameters: { resource: rec.resource } } : {}),
              }),
            ),
          ),
        (reason) => this.basicRefused(as, reason),
        await this.clientAuth(client, as),
      );
      tokens = this.toStored(tr, { refresh_token: refreshToken, scope: rec.tokens?.scope });
    } catch (err) {
      const e = toAuthError(err, 'token refresh');
      if (e instanceof AuthError && (e.code === 'invalid_grant' || e.code === 'invalid_client')) {
        this.log.warn('refresh refused; a new login is needed', { error: e.code });
        const next: StoredCredentials = { ...rec, updated_at: this.clock.now() };
        delete next.tokens;
        // A client the server no longer knows is registered again at the next login.
        if (e.code === 'invalid_client' && client.source === 'dcr') delete next.client;
        await this.store.set(next);
        return undefined;
      }
      throw e;
    }
    await this.store.set({ ...rec, tokens, updated_at: this.clock.now() });
    this.log.info('refreshed access token', { issuer: rec.issuer, expires_at: tokens.expires_at });
    return tokens;
  }

  private async ensureClient(
    d: Discovery,
    rec: StoredCredentials | undefined,
    redirectUri: string,
    scope: string | undefined,
  ): Promise<StoredClient> {
    const as = d.authorizationServer;
    if (this.opts.staticClient) return staticClientRecord(this.opts.staticClient, redirectUri, as);
    if (this.opts.clientMetadataUrl) {
      if (supportsCimd(as)) return cimdClientRecord(this.opts.clientMetadataUrl, redirectUri);
      this.log.warn(
        'authorization server does not support Client ID Metadata Documents; using dynamic registration',
        {
          issuer: as.issuer,
        },
      );
    }
    const existing = this.pendingClient ?? rec?.client;
    const secretExpired =
      existing?.client_secret_expires_at !== undefined &&
      existing.client_secret_expires_at !== 0 &&
      existing.client_secret_expires_at * 1000 <= this.clock.now();
    if (existing?.source === 'dcr' && existing.redirect_uris.includes(redirectUri) && !secretExpired) {
      const manageable = Boolean(existing.registration_client_uri && existing.registration_access_token);
      let current: Record<string, unknown> | undefined;
      let gone = false;
      if (manageable) {
        try {
          current = await readClientConfiguration(this.http.fetch, existing);
        } catch (err) {
          if (!(err instanceof ClientError) || err.kind === 'network') throw err;
          gone = true;
          this.log.info('stored client registration is gone; registering again', {
            client_id: existing.client_id,
          });
        }
      }
      if (!gone) {
        const registered =
          typeof current?.scope === 'string' ? current.scope : stringField(existing, 'scope');
        const wanted = scopeSet(scope);
        if (registered === undefined || [...wanted].every((s) => scopeSet(registered).has(s)))
          return existing;
        // Step-up beyond what the client registered for: widen the registration (RFC 7592), else register anew.
        const widened = [...new Set([...scopeSet(registered), ...wanted])].join(' ');
        if (manageable) {
          try {
            const updated = await updateClientConfiguration(this.http.fetch, existing, { scope: widened });
            this.pendingClient = mergeUpdatedClient(existing, updated);
            this.pendingClientIssuer = as.issuer;
            this.log.info('widened the client registration', {
              client_id: existing.client_id,
              scope: widened,
            });
            return this.pendingClient;
          } catch (err) {
            if (!(err instanceof ClientError) || err.kind === 'network') throw err;
            this.log.warn('could not widen the client registration; registering again', {
              reason: err.message,
            });
          }
        }
      }
    }
    // Register for every scope the resource offers, so later step-ups stay within the registration.
    const registrationScope = [
      ...new Set([...scopeSet(d.resourceMetadata?.scopes_supported?.join(' ')), ...scopeSet(scope)]),
    ].join(' ');
    const registered = await registerClient(
      as,
      {
        client_name: this.opts.clientName ?? 'mcp-streamablehttp-client',
        redirect_uris: [redirectUri],
        // SEP-837: our redirect is always a loopback callback, so this is a native client.
        application_type: 'native',
        ...(registrationScope ? { scope: registrationScope } : {}),
      },
      this.http,
      this.log,
    );
    this.pendingClient = registered;
    this.pendingClientIssuer = as.issuer;
    this.log.info('registered client', { client_id: registered.client_id, issuer: as.issuer });
    return registered;
  }

  /**
   * After a failed or denied sign-in, a client registered for it and never
   * stored is deleted at the server (RFC 7592), so failed attempts leave no
   * registrations behind; without a management endpoint it is kept in memory
   * for the next attempt of this process.
   */
  private async dropUnusedRegistration(
    client: StoredClient,
    rec: StoredCredentials | undefined,
  ): Promise<void> {
    const fresh = client === this.pendingClient && rec?.client?.client_id !== client.client_id;
    if (!fresh || client.source !== 'dcr') return;
    if (!client.registration_client_uri || !client.registration_access_token) return;
    try {
      await deleteClientConfiguration(this.http.fetch, client);
      this.pendingClient = undefined;
      this.log.info('deleted the client registered for the failed sign-in', { client_id: client.client_id });
    } catch (err) {
      this.log.warn('could not delete the client registered for the failed sign-in', {
        client_id: client.client_id,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** The authorization-code flow with PKCE; call with the lock held. Writes the store only on success. */
  private async loginLocked(opts: { scope?: string; challenge?: BearerChallenge }): Promise<StoredTokens> {
    const d = await this.discover(opts.challenge);
    const as = d.authorizationServer;
    const rec = await this.store.get(this.server, d.issuer);
    const scope = opts.scope ?? this.opts.scope ?? withOfflineAccess(d.scope, as);
    const pinned = this.opts.callbackPort;
    const cb = await startCallbackServer({
      port: pinned ?? portOf(this.pendingClient?.redirect_uris[0] ?? rec?.client?.redirect_uris[0]) ?? 0,
      fallbackToFreePort: pinned === undefined,
    });
    try {
      const client = await this.ensureClient(d, rec, cb.redirectUri, scope);
      const proof = await this.dpop.forTokenRequest(as, rec?.dpop_key);
      try {
        const oc = toOAuthClient(client);
        const verifier = oauth.generateRandomCodeVerifier();
        const state = oauth.generateRandomState();
        const url = new URL(as.authorization_endpoint!);
        const params: Record<string, string> = {
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: cb.redirectUri,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          resource: d.resource,
        };
        if (scope) params.scope = scope;
        // RFC 9449 §10: the code is bound to our key, so only our proof redeems it.
        if (proof) params.dpop_jkt = await proof.handle.calculateThumbprint();
        for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
        await announceSignIn(url.href, this.opts, this.log);
        const hit = await cb.next(this.opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS);
        let tokens: StoredTokens;
        try {
          const callbackParams = validateAuthorizationResponse(as, oc, hit.url, state);
          const tr = await withClientAuthFallback(
            client,
            'token request',
            (auth) =>
              withDPoPNonceRetry(proof?.handle, async () =>
                oauth.processAuthorizationCodeResponse(
                  as,
                  oc,
                  await oauth.authorizationCodeGrantRequest(
                    as,
                    oc,
                    auth,
                    callbackParams,
                    cb.redirectUri,
                    verifier,
                    {
                      ...requestOptions(this.http, as.token_endpoint, proof?.handle),
                      additionalParameters: { resource: d.resource },
                    },
                  ),
                ),
              ),
            (reason) => this.basicRefused(as, reason),
            await this.clientAuth(client, as),
          );
          tokens = await this.storeTokens(d, client, tr, scope, proof?.key);
        } catch (err) {
          hit.respond(false, err instanceof Error ? err.message : String(err));
          throw err;
        }
        hit.respond(true, `mcp-streamablehttp-client is signed in to ${this.server}.`);
        this.pendingClient = undefined;
        this.issuer = d.issuer;
        this.log.info('logged in', { issuer: d.issuer, scope: tokens.scope, expires_at: tokens.expires_at });
        return tokens;
      } catch (err) {
        await this.dropUnusedRegistration(client, rec);
        throw err;
      }
    } finally {
      await cb.close();
    }
  }

  /**
   * A new token with the session's grant; call with the lock held. The
   * browser flow only when the session may start one by itself.
   */
  private obtainLocked(
    opts: { scope?: string; challenge?: BearerChallenge },
    why: string,
  ): Promise<StoredTokens> {
    if (this.grant !== 'authorization_code') return this.grantLocked(opts);
    this.requireInteractive(why);
    return this.loginLocked(opts);
  }

  /**
   * The grants without a browser (`client_credentials`, `id_jag`,
   * `jwt_bearer`); call with the lock held. Writes the store only on success.
   */
  private async grantLocked(opts: { scope?: string; challenge?: BearerChallenge }): Promise<StoredTokens> {
    const d = await this.discover(opts.challenge);
    const as = d.authorizationServer;
    const scope = opts.scope ?? this.opts.scope ?? d.scope;
    let client: StoredClient | undefined;
    if (this.opts.staticClient) {
      client = staticClientRecord(this.opts.staticClient, '', as);
      client.redirect_uris = [];
    }
    const rec = await this.store.get(this.server, d.issuer);
    const proof = await this.dpop.forTokenRequest(as, rec?.dpop_key);
    const tr = await machineGrant({
      grant: this.grant as 'client_credentials' | 'id_jag' | 'jwt_bearer',
      as,
      resource: d.resource,
      scope,
      client,
      auth: client ? await this.clientAuth(client, as) : oauth.None(),
      identityProvider: this.opts.identityProvider,
      workloadToken: this.opts.workloadToken,
      dpop: proof?.handle,
      http: this.http,
      log: this.log,
      onBasicRefused: (reason) => this.basicRefused(as, reason),
    });
    const tokens = await this.storeTokens(d, client, tr, scope, proof?.key);
    this.issuer = d.issuer;
    this.log.info('obtained an access token', {
      grant: this.grant,
      issuer: d.issuer,
      scope: tokens.scope,
      token_type: tokens.token_type,
      expires_at: tokens.expires_at,
    });
    return tokens;
  }

  /** Who we are at this server: token expiry, scopes, client. Makes no network request. */
  async status(): Promise<AuthStatus> {
    const rec = await this.credentials();
    const out: AuthStatus = { server: this.server, loggedIn: false, hasRefreshToken: false };
    if (this.store instanceof FileTokenStore && rec)
      out.storedAt = this.store.fileFor(rec.server, rec.issuer);
    if (!rec) return out;
    out.issuer = rec.issuer;
    if (rec.resource) out.resource = rec.resource;
    if (rec.client) {
      out.clientId = rec.client.client_id;
      out.clientSource = rec.client.source;
    }
    const t = rec.tokens;
    if (!t) return out;
    out.loggedIn = true;
    out.hasRefreshToken = Boolean(t.refresh_token);
    out.tokenType = isDPoPBound(t) ? 'DPoP' : 'Bearer';
    if (t.scope) out.scope = t.scope;
    if (t.expires_at !== undefined) {
      out.expiresAt = new Date(t.expires_at).toISOString();
      out.expired = t.expires_at <= this.clock.now();
    }
    const claims = decodeJwtClaims(t.access_token) ?? (t.id_token ? decodeJwtClaims(t.id_token) : undefined);
    if (claims) out.claims = claims;
    return out;
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
          const response = await oauth.revocationRequest(
            as,
            toOAuthClient(rec.client),
            clientAuthFor(rec.client),
            rt,
            {
              ...requestOptions(this.http, as.revocation_endpoint),
              additionalParameters: { token_type_hint: 'refresh_token' },
            },
          );
          await oauth.processRevocationResponse(response);
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
