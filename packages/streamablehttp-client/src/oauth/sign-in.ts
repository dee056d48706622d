/**
 * Getting new tokens with the session's grant: the browser sign-in (the
 * authorization-code grant through the loopback callback) or a grant without
 * a browser (`client_credentials`, `id_jag`, `jwt_bearer`). Either writes the
 * store only on success, with the client and the DPoP key that got the tokens.
 */
import * as oauth from 'oauth4webapi';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { StoredClient, StoredDPoPKey, StoredTokens, TokenStore } from '../store/types.js';
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
import { portOf, withOfflineAccess } from './session-helpers.js';
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
  scope?: string;
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
    const scope = req.scope ?? c.opts.scope ?? withOfflineAccess(d.scope, as);
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
          finish: (tr) => this.store(d, client, tr, scope, proof?.key),
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
    const scope = req.scope ?? c.opts.scope ?? d.scope;
    let client: StoredClient | undefined;
    if (c.opts.staticClient) {
      client = staticClientRecord(c.opts.staticClient, '', as);
      client.redirect_uris = [];
    }
    const rec = await c.store.get(c.server, d.issuer);
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
    const tokens = await this.store(d, client, tr, scope, proof?.key);
    c.log.info('obtained an access token', {
      grant: c.grant,
      issuer: d.issuer,
      scope: tokens.scope,
      token_type: tokens.token_type,
      expires_at: tokens.expires_at,
    });
    return { tokens, issuer: d.issuer };
  }

  /** Stores the tokens of a successful grant (with the client and the DPoP key that got them). */
  private async store(
    d: Discovery,
    client: StoredClient | undefined,
    tr: oauth.TokenEndpointResponse,
    scope: string | undefined,
    dpopKey: StoredDPoPKey | undefined,
  ): Promise<StoredTokens> {
    const { c } = this;
    const tokens = toStoredTokens(tr, { ...(scope ? { scope } : {}) }, c.clock.now());
    await c.store.set({
      version: STORE_FORMAT_VERSION,
      server: c.server,
      issuer: d.issuer,
      resource: d.resource,
      ...(client ? { client } : {}),
      tokens,
      ...(dpopKey ? { dpop_key: dpopKey } : {}),
      updated_at: c.clock.now(),
    });
    if (dpopKey) c.dpop.stored(dpopKey);
    return tokens;
  }
}
