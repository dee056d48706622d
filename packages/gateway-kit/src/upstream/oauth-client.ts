import * as oauth from 'oauth4webapi';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { guardedFetch, systemResolver, type AddressRule, type Resolver } from '../http/address-guard.js';
import { allowedAuthorizationEndpoint } from './authorization-url.js';
import { DiscoveryCache, type Discovery } from './discovery-cache.js';
import { discoverUpstream, type UpstreamDiscovery } from './discovery.js';
import { configuredReach, refusedEndpoint, withinReach } from './endpoint-reach.js';
import { UpstreamEndpointRefused, UpstreamIssuerMismatch, UpstreamOAuthError } from './errors.js';
import { requestScope } from './scopes.js';
import type { SecretBox } from './secret-box.js';
import type { UpstreamTokens } from './token-vault.js';

export {
  UpstreamAuthorizationUrlRefused,
  UpstreamEndpointRefused,
  UpstreamIssuerMismatch,
  UpstreamOAuthError,
} from './errors.js';

/** How the gateway is known to one upstream authorization server. */
export interface UpstreamClientOptions {
  /** The gateway service the upstream serves (names the stored registration). */
  service: string;
  /** The upstream MCP endpoint: the RFC 9728 resource the tokens are for. */
  resource: string;
  /** Where the upstream sends the browser back (`…/account/upstream/callback/<service>`). */
  redirectUri: string;
  /**
   * Scopes every sign-in asks for, and all it asks for (default: the `scope` of the upstream's 401
   * challenge to an unauthenticated request, else its `scopes_supported`, and a user's granted and
   * challenged ones).
   */
  scope?: string | undefined;
  /** A client registered with the upstream by hand; without it the gateway registers itself (RFC 7591). */
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /**
   * The authorization server `clientId` was registered with (its exact `issuer`). Without it the
   * client is bound to the first one the upstream names, remembered in the store.
   */
  issuer?: string | undefined;
  /** `client_name` the gateway registers under. */
  clientName: string;
  store: Store;
  /** Seals the registration (it holds the client secret) in the store. */
  box: SecretBox;
  /** The clock (ms since the epoch): token expiry, discovery lifetime (default `Date.now`). */
  now?: (() => number) | undefined;
  /** Resolves the hosts the gateway checks before it connects (default: the system resolver). */
  resolver?: Resolver | undefined;
  /**
   * A rule every address must pass as well, the configured upstream's included: a service added
   * through the admin API keeps its own rule (`admin.allowPrivateHttpServices`) here.
   */
  addressRule?: AddressRule | undefined;
}

/** Registrations kept per upstream, one per authorization server met (a move adds one). */
const MAX_REGISTRATIONS = 4;

/** The request options of every oauth4webapi call: the guarded fetch, plain http when allowed. */
type HttpOptions = {
  [oauth.allowInsecureRequests]?: boolean;
  [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
};

/** An upstream failure for a log line: the OAuth error code and description when the upstream sent them (never a token). */
export function describeOAuthError(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError)
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''} (HTTP ${err.status})`;
  if (err instanceof oauth.AuthorizationResponseError)
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  return (err as Error).message ?? String(err);
}

interface Registration {
  client: oauth.Client;
  secret?: string | undefined;
}

const REGISTRATION_PREFIX = 'gateway:upstream-client:';
/** Store key prefix of the authorization server a client configured by hand was first used with. */
const CONFIGURED_ISSUER_PREFIX = 'gateway:upstream-client-issuer:';

/** What discovery found, and how to reach it. */
interface Discovered {
  as: oauth.AuthorizationServer;
  /** The RFC 8707 `resource` of every request (the RFC 9728 document's). */
  resource: string;
  /** Where the RFC 9728 document was found. */
  metadataUrl: string;
  /**
   * The scopes every sign-in asks for: the configured ones, else the upstream's initial challenge's,
   * else the document's `scopes_supported` (MCP authorization, "Scope Selection Strategy"; the
   * upstream's within the bounds of {@link requestScope}).
   */
  scope: string | undefined;
  /** Plain http is allowed (the configured upstream is http): for the authorization endpoint too. */
  insecure: boolean;
  http: HttpOptions;
}

/**
 * The gateway as an OAuth client of one upstream MCP server's authorization
 * server (oauth4webapi): discovery from the MCP endpoint ({@link discoverUpstream}:
 * its 401 challenge, RFC 9728, RFC 8414 / OpenID Connect metadata), a
 * hand-registered client or RFC 7591 registration (kept in the store, shared
 * by instances), PKCE S256 with `resource` (RFC 8707), `iss` checked in the
 * authorization response (RFC 9207), refresh and RFC 7009 revocation.
 * Plain-http upstreams are allowed only when the configured service URL is
 * http (loopback tests, private networks the operator chose).
 *
 * Everything is bound to the authorization server it belongs to: a
 * registration is stored per issuer, a configured client serves only the
 * issuer it was configured (or first used) for, a user's tokens and each
 * sign-in in progress record their issuer, and none of them is sent to
 * another ({@link UpstreamIssuerMismatch}).
 *
 * The upstream may move to another authorization server (its RFC 9728
 * document names another): discovery is kept for a bounded time
 * ({@link DiscoveryCache}: an hour, or the documents' shorter `max-age`) and
 * done again earlier when the upstream's 401 challenge names another document
 * ({@link challenged}) or the token endpoint fails as if it had moved; at most
 * one discovery per upstream is in flight, and they start at most once per
 * 30 s (`REDISCOVERY_INTERVAL_MS`).
 *
 * What the metadata names may not lead further inside the network than the
 * configured upstream ({@link withinReach}): every request goes through a
 * fetch that resolves, checks and pins each connection, and the endpoints are
 * checked when they are discovered. Redirects are never followed.
 */
export class UpstreamOAuthClient {
  private readonly discovery: DiscoveryCache<Discovered>;
  /**
   * The registration at each authorization server met, by issuer (a move makes a second one;
   * at most {@link MAX_REGISTRATIONS}, the oldest forgotten), so calls that began before and
   * after a move never register twice at one server or mix two client ids.
   */
  private readonly registered = new Map<string, Promise<Registration>>();
  private readonly resolver: Resolver;

  constructor(private readonly o: UpstreamClientOptions) {
    this.resolver = o.resolver ?? systemResolver;
    this.discovery = new DiscoveryCache(() => this.discover(), { now: o.now ?? Date.now });
  }

  /** The upstream's authorization server, found through its RFC 9728 document (kept for a bounded time; see the class). */
  async authorizationServer(): Promise<oauth.AuthorizationServer> {
    return (await this.server()).as;
  }

  /**
   * The upstream refused the gateway's bearer with a challenge naming `resourceMetadata`: when it is
   * not where the document in use was found, the upstream may have moved, and the next use discovers again.
   */
  challenged(resourceMetadata: string | undefined): void {
    const found = this.discovery.peek();
    if (
      found &&
      resourceMetadata &&
      URL.canParse(resourceMetadata) &&
      new URL(resourceMetadata).href !== found.metadataUrl
    )
      this.discovery.invalidate();
  }

  private server(): Promise<Discovered> {
    return this.discovery.get();
  }

  private async discover(): Promise<Discovery<Discovered>> {
    const resource = new URL(this.o.resource);
    const reach = withinReach(await configuredReach(resource, this.resolver));
    const extra = this.o.addressRule;
    const rule: AddressRule = extra ? (c) => reach(c) && extra(c) : reach;
    const guarded = guardedFetch(this.resolver, rule);
    // The configured upstream's own origin is the operator's choice (its MCP traffic goes there
    // anyway): only the service's own rule applies to it, whatever else its host resolves to.
    const own = guardedFetch(this.resolver, extra ?? (() => true));
    const fetch = (url: string, init: RequestInit) =>
      (new URL(url).origin === resource.origin ? own : guarded)(url, init);
    const insecure = resource.protocol === 'http:';
    const http: HttpOptions = {
      ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
      [oauth.customFetch]: (url, init) => fetch(url, init as RequestInit),
    };
    const found: UpstreamDiscovery = await discoverUpstream(resource, { fetch, insecure });
    const { as } = found;
    if (!as.code_challenge_methods_supported?.includes('S256'))
      throw new UpstreamOAuthError(`${as.issuer} does not support PKCE S256`);
    // Each endpoint it names must be within reach too (the guarded fetch checks every connection again).
    const refused = await refusedEndpoint(as, rule, this.resolver, resource.origin);
    if (refused) throw new UpstreamEndpointRefused(refused);
    const scope =
      this.o.scope ?? requestScope(undefined, found.challengeScope || found.scopesSupported?.join(' '));
    return {
      value: { as, resource: found.resource, metadataUrl: found.metadataUrl, scope, insecure, http },
      maxAgeMs: found.maxAgeMs,
    };
  }

  /** The gateway's client at the authorization server of `found` (made once per authorization server; retried after a failure). */
  private registration(found: Discovered): Promise<Registration> {
    const issuer = found.as.issuer;
    let reg = this.registered.get(issuer);
    if (!reg) {
      const made = this.register(found).catch((err: unknown) => {
        if (this.registered.get(issuer) === made) this.registered.delete(issuer);
        throw err;
      });
      this.registered.set(issuer, (reg = made));
      if (this.registered.size > MAX_REGISTRATIONS)
        this.registered.delete(this.registered.keys().next().value!);
    }
    return reg;
  }

  private async register({ as, http }: Discovered): Promise<Registration> {
    if (this.o.clientId) {
      await this.checkConfiguredIssuer(as.issuer);
      return { client: { client_id: this.o.clientId }, secret: this.o.clientSecret };
    }
    const key = `${REGISTRATION_PREFIX}${this.o.service} ${as.issuer} ${this.o.redirectUri}`;
    const stored = await this.o.box.open<Registration>(await this.o.store.get(key), key);
    if (stored?.client.client_id) return stored;
    if (!as.registration_endpoint)
      throw new UpstreamOAuthError(`${as.issuer} offers no client registration; configure a clientId`);
    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: this.o.clientName,
          redirect_uris: [this.o.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          // SEP-837: a web app redirects over https; a gateway on loopback http (local use) registers as native.
          application_type: this.o.redirectUri.startsWith('https:') ? 'web' : 'native',
        },
        http,
      ),
    );
    const reg: Registration = {
      client: { client_id: client.client_id },
      secret: typeof client.client_secret === 'string' ? client.client_secret : undefined,
    };
    await this.o.store.set(key, await this.o.box.seal(reg, key));
    return reg;
  }

  /**
   * A client configured by hand is the client of one authorization server: `issuer` when
   * configured, else the first one it was used with (remembered in the store, for every
   * instance). Its id and secret never go to another.
   */
  private async checkConfiguredIssuer(current: string): Promise<void> {
    let bound = this.o.issuer;
    if (bound === undefined) {
      const key = `${CONFIGURED_ISSUER_PREFIX}${this.o.service} ${this.o.clientId}`;
      await this.o.store.compareAndSet(key, undefined, current);
      bound = await this.o.store.get<string>(key);
    }
    if (bound !== current)
      throw new UpstreamIssuerMismatch(
        bound,
        current,
        `the clientId configured for service "${this.o.service}"`,
      );
  }

  private auth(reg: Registration): oauth.ClientAuth {
    return reg.secret ? oauth.ClientSecretBasic(reg.secret) : oauth.None();
  }

  /**
   * The `scope` a sign-in asks for: the configured `scope` when there is one (a ceiling: nothing
   * else is added); else the service's default ({@link Discovered.scope}) and as much of `more` (a
   * user's granted and challenged scopes, oldest first: step-up) as the bounds of
   * {@link requestScope} let in, the newest preferred.
   */
  async scopeFor(more?: string): Promise<string | undefined> {
    return this.scopeOf(await this.server(), more);
  }

  private scopeOf(found: Discovered, more: string | undefined): string | undefined {
    return this.o.scope ?? requestScope(found.scope, more);
  }

  /**
   * The upstream `/authorize` URL for one sign-in (`state` and the PKCE `verifier` are the
   * caller's), the issuer of the authorization server it goes to (the caller keeps it with the
   * verifier and hands it back to {@link exchange}) and the `scope` it asks for
   * ({@link scopeFor} of `more`). The authorization endpoint is checked again here, before any
   * browser is sent there ({@link UpstreamAuthorizationUrlRefused}).
   */
  async authorizationUrl(
    state: string,
    verifier: string,
    more?: string,
  ): Promise<{ url: URL; issuer: string; scope: string | undefined }> {
    const found = await this.server();
    const { as, resource } = found;
    if (!as.authorization_endpoint)
      throw new UpstreamOAuthError(`${as.issuer} has no authorization endpoint`);
    const url = allowedAuthorizationEndpoint(as.issuer, as.authorization_endpoint);
    const scope = this.scopeOf(found, more);
    const reg = await this.registration(found);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: reg.client.client_id,
      redirect_uri: this.o.redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource,
      ...(scope ? { scope } : {}),
    }).toString();
    return { url, issuer: as.issuer, scope };
  }

  /**
   * Redeems the code of the authorization response at `callback` (state and `iss` checked) at
   * `issuer`, the authorization server the sign-in was started with: when the upstream names
   * another now, nothing is sent ({@link UpstreamIssuerMismatch}). `requested` is the scope the
   * sign-in asked for, kept with the tokens.
   */
  async exchange(
    callback: URL,
    state: string,
    verifier: string,
    issuer: string,
    requested?: string,
  ): Promise<UpstreamTokens> {
    const what = 'the sign-in in progress';
    const found = await this.server();
    const { as, resource, http } = found;
    if (as.issuer !== issuer) throw new UpstreamIssuerMismatch(issuer, as.issuer, what);
    const reg = await this.registration(found);
    const params = oauth.validateAuthResponse(as, reg.client, callback, state);
    return this.atTokenEndpoint(issuer, what, async () => {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        reg.client,
        this.auth(reg),
        params,
        this.o.redirectUri,
        verifier,
        { ...http, additionalParameters: { resource } },
      );
      const tokens = this.tokens(as, await oauth.processAuthorizationCodeResponse(as, reg.client, response));
      return requested ? { ...tokens, requested } : tokens;
    });
  }

  /**
   * New tokens for a refresh token (the upstream may rotate it), from the authorization server
   * that issued them only: tokens of another (or of none recorded) are {@link UpstreamIssuerMismatch}.
   */
  async refresh(tokens: UpstreamTokens): Promise<UpstreamTokens> {
    const { refreshToken } = tokens;
    if (!refreshToken) throw new UpstreamOAuthError('no refresh token');
    const what = "the user's upstream tokens";
    const found = await this.server();
    const { as, resource, http } = found;
    if (tokens.issuer !== as.issuer) throw new UpstreamIssuerMismatch(tokens.issuer, as.issuer, what);
    const reg = await this.registration(found);
    const fresh = await this.atTokenEndpoint(as.issuer, what, async () => {
      const response = await oauth.refreshTokenGrantRequest(as, reg.client, this.auth(reg), refreshToken, {
        ...http,
        additionalParameters: { resource },
      });
      return this.tokens(as, await oauth.processRefreshTokenResponse(as, reg.client, response));
    });
    // A refresh grants what was granted unless it says otherwise (RFC 6749 §5.1), and keeps what was asked.
    const scope = fresh.scope ?? tokens.scope;
    return {
      ...fresh,
      refreshToken: fresh.refreshToken ?? tokens.refreshToken,
      ...(scope ? { scope } : {}),
      ...(tokens.requested ? { requested: tokens.requested } : {}),
      connectedAt: tokens.connectedAt,
    };
  }

  /**
   * Revokes the tokens at the upstream (RFC 7009) when it offers revocation; failures are the
   * caller's to ignore. Tokens of another authorization server than the current one are not sent.
   */
  async revoke(tokens: UpstreamTokens): Promise<void> {
    const found = await this.server();
    const { as, http } = found;
    if (!as.revocation_endpoint || tokens.issuer !== as.issuer) return;
    const reg = await this.registration(found);
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      if (!token) continue;
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, reg.client, this.auth(reg), token, http),
      );
    }
  }

  /**
   * `request` at the token endpoint of `issuer`. When it fails as if the authorization server had
   * moved ({@link suggestsMove}), the upstream is discovered again (within the interval's bound):
   * if it names another authorization server now, that is the error ({@link UpstreamIssuerMismatch}
   * about `what`); nothing is sent to the new one.
   */
  private async atTokenEndpoint<T>(issuer: string, what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (!suggestsMove(err)) throw err;
      this.discovery.invalidate();
      const now = await this.server().catch(() => undefined);
      if (now && now.as.issuer !== issuer) throw new UpstreamIssuerMismatch(issuer, now.as.issuer, what);
      throw err;
    }
  }

  private tokens(as: oauth.AuthorizationServer, r: oauth.TokenEndpointResponse): UpstreamTokens {
    if (r.token_type.toLowerCase() !== 'bearer')
      throw new UpstreamOAuthError(`the upstream issued ${r.token_type} tokens; only Bearer is supported`);
    const now = (this.o.now ?? Date.now)();
    return {
      accessToken: r.access_token,
      ...(r.refresh_token ? { refreshToken: r.refresh_token } : {}),
      ...(typeof r.expires_in === 'number' ? { expiresAt: now + r.expires_in * 1000 } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      issuer: as.issuer,
      connectedAt: now,
    };
  }
}

/**
 * A failure of the token endpoint that suggests the authorization server moved away: no connection
 * (an address refusal is not one), an answer that is not an OAuth one (404, 410, a redirect, an error
 * page), or `invalid_client` (it no longer knows the gateway's client). A refused grant
 * (`invalid_grant`) is not one.
 */
function suggestsMove(err: unknown): boolean {
  if (err instanceof oauth.ResponseBodyError) return err.error === 'invalid_client';
  if (err instanceof oauth.OperationProcessingError)
    return err.code === oauth.RESPONSE_IS_NOT_CONFORM || err.code === oauth.RESPONSE_IS_NOT_JSON;
  // fetch's own failure (`fetch failed`), not oauth4webapi's coded argument errors.
  return err instanceof TypeError && !('code' in err);
}
