import * as oauth from 'oauth4webapi';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { guardedFetch, systemResolver, type AddressRule, type Resolver } from '../http/address-guard.js';
import { discoverUpstream, type UpstreamDiscovery } from './discovery.js';
import { configuredReach, refusedEndpoint, withinReach } from './endpoint-reach.js';
import { UpstreamEndpointRefused, UpstreamIssuerMismatch, UpstreamOAuthError } from './errors.js';
import type { SecretBox } from './secret-box.js';
import type { UpstreamTokens } from './token-vault.js';

export { UpstreamEndpointRefused, UpstreamIssuerMismatch, UpstreamOAuthError } from './errors.js';

/** How the gateway is known to one upstream authorization server. */
export interface UpstreamClientOptions {
  /** The gateway service the upstream serves (names the stored registration). */
  service: string;
  /** The upstream MCP endpoint: the RFC 9728 resource the tokens are for. */
  resource: string;
  /** Where the upstream sends the browser back (`…/account/upstream/callback/<service>`). */
  redirectUri: string;
  /** Scopes to ask for (default: the upstream's `scopes_supported`). */
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
  now?: () => number;
  /** Resolves the hosts the gateway checks before it connects (default: the system resolver). */
  resolver?: Resolver | undefined;
  /**
   * A rule every address must pass as well, the configured upstream's included: a service added
   * through the admin API keeps its own rule (`admin.allowPrivateHttpServices`) here.
   */
  addressRule?: AddressRule | undefined;
}

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
 * What the metadata names may not lead further inside the network than the
 * configured upstream ({@link withinReach}): every request goes through a
 * fetch that resolves, checks and pins each connection, and the endpoints are
 * checked when they are discovered. Redirects are never followed.
 */
export class UpstreamOAuthClient {
  private discovered: Promise<Discovered> | undefined;
  private registered: Promise<Registration> | undefined;
  private readonly resolver: Resolver;

  constructor(private readonly o: UpstreamClientOptions) {
    this.resolver = o.resolver ?? systemResolver;
  }

  /** The upstream's authorization server, found through its RFC 9728 document (cached; retried after a failure). */
  async authorizationServer(): Promise<oauth.AuthorizationServer> {
    return (await this.server()).as;
  }

  private server(): Promise<Discovered> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  private async discover(): Promise<Discovered> {
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
    this.scopes ??= this.o.scope ?? found.scopesSupported?.join(' ');
    return { as, resource: found.resource, http };
  }

  private scopes: string | undefined;

  private registration(): Promise<Registration> {
    this.registered ??= this.register().catch((err: unknown) => {
      this.registered = undefined;
      throw err;
    });
    return this.registered;
  }

  private async register(): Promise<Registration> {
    const { as, http } = await this.server();
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
   * The upstream `/authorize` URL for one sign-in (`state` and the PKCE `verifier` are the
   * caller's), and the issuer of the authorization server it goes to: the caller keeps it with
   * the verifier and hands it back to {@link exchange}.
   */
  async authorizationUrl(state: string, verifier: string): Promise<{ url: URL; issuer: string }> {
    const [{ as, resource }, reg] = [await this.server(), await this.registration()];
    if (!as.authorization_endpoint)
      throw new UpstreamOAuthError(`${as.issuer} has no authorization endpoint`);
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: reg.client.client_id,
      redirect_uri: this.o.redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource,
      ...(this.scopes ? { scope: this.scopes } : {}),
    }).toString();
    return { url, issuer: as.issuer };
  }

  /**
   * Redeems the code of the authorization response at `callback` (state and `iss` checked) at
   * `issuer`, the authorization server the sign-in was started with: when the upstream names
   * another now, nothing is sent ({@link UpstreamIssuerMismatch}).
   */
  async exchange(callback: URL, state: string, verifier: string, issuer: string): Promise<UpstreamTokens> {
    const { as, resource, http } = await this.server();
    if (as.issuer !== issuer) throw new UpstreamIssuerMismatch(issuer, as.issuer, 'the sign-in in progress');
    const reg = await this.registration();
    const params = oauth.validateAuthResponse(as, reg.client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      reg.client,
      this.auth(reg),
      params,
      this.o.redirectUri,
      verifier,
      { ...http, additionalParameters: { resource } },
    );
    return this.tokens(as, await oauth.processAuthorizationCodeResponse(as, reg.client, response));
  }

  /**
   * New tokens for a refresh token (the upstream may rotate it), from the authorization server
   * that issued them only: tokens of another (or of none recorded) are {@link UpstreamIssuerMismatch}.
   */
  async refresh(tokens: UpstreamTokens): Promise<UpstreamTokens> {
    if (!tokens.refreshToken) throw new UpstreamOAuthError('no refresh token');
    const { as, resource, http } = await this.server();
    if (tokens.issuer !== as.issuer)
      throw new UpstreamIssuerMismatch(tokens.issuer, as.issuer, "the user's upstream tokens");
    const reg = await this.registration();
    const response = await oauth.refreshTokenGrantRequest(
      as,
      reg.client,
      this.auth(reg),
      tokens.refreshToken,
      { ...http, additionalParameters: { resource } },
    );
    const fresh = this.tokens(as, await oauth.processRefreshTokenResponse(as, reg.client, response));
    return {
      ...fresh,
      refreshToken: fresh.refreshToken ?? tokens.refreshToken,
      connectedAt: tokens.connectedAt,
    };
  }

  /**
   * Revokes the tokens at the upstream (RFC 7009) when it offers revocation; failures are the
   * caller's to ignore. Tokens of another authorization server than the current one are not sent.
   */
  async revoke(tokens: UpstreamTokens): Promise<void> {
    const { as, http } = await this.server();
    if (!as.revocation_endpoint || tokens.issuer !== as.issuer) return;
    const reg = await this.registration();
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      if (!token) continue;
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, reg.client, this.auth(reg), token, http),
      );
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
