import * as oauth from 'oauth4webapi';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import {
  AddressRefusedError,
  guardedFetch,
  systemResolver,
  type AddressRule,
  type Resolver,
} from '../http/address-guard.js';
import { configuredReach, endpointRefusal, refusedEndpoint, withinReach } from './endpoint-reach.js';
import type { SecretBox } from './secret-box.js';
import type { UpstreamTokens } from './token-vault.js';

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

/** Refused by the upstream authorization server, or it could not be reached: the reason is for the user's page. */
export class UpstreamOAuthError extends Error {
  override readonly name = 'UpstreamOAuthError';
}

/**
 * An endpoint the upstream's metadata names (its authorization server, token endpoint, …) resolves
 * further inside the network than the configured upstream may lead the gateway. Not a refusal of
 * the user's grant (DNS may say otherwise a minute later): the user's tokens are kept.
 */
export class UpstreamEndpointRefused extends Error {
  override readonly name = 'UpstreamEndpointRefused';
}

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

/**
 * The gateway as an OAuth client of one upstream MCP server's authorization
 * server (oauth4webapi): RFC 9728 discovery from the MCP endpoint, RFC 8414
 * metadata, a hand-registered client or RFC 7591 registration (kept in the
 * store, shared by instances), PKCE S256 with `resource` (RFC 8707), `iss`
 * checked in the authorization response (RFC 9207), refresh and RFC 7009
 * revocation. Plain-http upstreams are allowed only when the configured
 * service URL is http (loopback tests, private networks the operator chose).
 *
 * What the metadata names may not lead further inside the network than the
 * configured upstream ({@link withinReach}): every request goes through a
 * fetch that resolves, checks and pins each connection, and the endpoints are
 * checked when they are discovered. Redirects are never followed.
 */
export class UpstreamOAuthClient {
  private discovered: Promise<{ as: oauth.AuthorizationServer; http: HttpOptions }> | undefined;
  private registered: Promise<Registration> | undefined;
  private readonly resolver: Resolver;

  constructor(private readonly o: UpstreamClientOptions) {
    this.resolver = o.resolver ?? systemResolver;
  }

  /** The upstream's authorization server, found through its RFC 9728 document (cached; retried after a failure). */
  async authorizationServer(): Promise<oauth.AuthorizationServer> {
    return (await this.server()).as;
  }

  private server(): Promise<{ as: oauth.AuthorizationServer; http: HttpOptions }> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  private async discover(): Promise<{ as: oauth.AuthorizationServer; http: HttpOptions }> {
    const resource = new URL(this.o.resource);
    const reach = withinReach(await configuredReach(resource, this.resolver));
    const extra = this.o.addressRule;
    const rule: AddressRule = extra ? (c) => reach(c) && extra(c) : reach;
    const guarded = guardedFetch(this.resolver, rule);
    // The configured upstream's own origin is the operator's choice (its MCP traffic goes there
    // anyway): only the service's own rule applies to it, whatever else its host resolves to.
    const own = guardedFetch(this.resolver, extra ?? (() => true));
    const http: HttpOptions = {
      ...(resource.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {}),
      [oauth.customFetch]: (url, init) =>
        (new URL(url).origin === resource.origin ? own : guarded)(url, init as RequestInit),
    };
    const rs = await oauth.processResourceDiscoveryResponse(
      resource,
      await oauth.resourceDiscoveryRequest(resource, http),
    );
    const issuer = rs.authorization_servers?.[0];
    if (!issuer) throw new UpstreamOAuthError(`${this.o.resource} names no authorization server`);
    const issuerUrl = new URL(issuer);
    const as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth
        .discoveryRequest(issuerUrl, { ...http, algorithm: 'oauth2' })
        .catch(refusedAs('authorization server', issuer)),
    );
    if (!as.code_challenge_methods_supported?.includes('S256'))
      throw new UpstreamOAuthError(`${issuer} does not support PKCE S256`);
    // Each endpoint it names must be within reach too (the guarded fetch checks every connection again).
    const refused = await refusedEndpoint(as, rule, this.resolver, resource.origin);
    if (refused) throw new UpstreamEndpointRefused(refused);
    this.scopes ??= this.o.scope ?? rs.scopes_supported?.join(' ');
    return { as, http };
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
    if (this.o.clientId) return { client: { client_id: this.o.clientId }, secret: this.o.clientSecret };
    const { as, http } = await this.server();
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

  private auth(reg: Registration): oauth.ClientAuth {
    return reg.secret ? oauth.ClientSecretBasic(reg.secret) : oauth.None();
  }

  /** The upstream `/authorize` URL for one sign-in (`state` and the PKCE `verifier` are the caller's). */
  async authorizationUrl(state: string, verifier: string): Promise<URL> {
    const [{ as }, reg] = [await this.server(), await this.registration()];
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
      resource: this.o.resource,
      ...(this.scopes ? { scope: this.scopes } : {}),
    }).toString();
    return url;
  }

  /** Redeems the code of the authorization response at `callback` (state and `iss` checked). */
  async exchange(callback: URL, state: string, verifier: string): Promise<UpstreamTokens> {
    const [{ as, http }, reg] = [await this.server(), await this.registration()];
    const params = oauth.validateAuthResponse(as, reg.client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      reg.client,
      this.auth(reg),
      params,
      this.o.redirectUri,
      verifier,
      { ...http, additionalParameters: { resource: this.o.resource } },
    );
    return this.tokens(await oauth.processAuthorizationCodeResponse(as, reg.client, response));
  }

  /** New tokens for a refresh token (the upstream may rotate it). */
  async refresh(tokens: UpstreamTokens): Promise<UpstreamTokens> {
    if (!tokens.refreshToken) throw new UpstreamOAuthError('no refresh token');
    const [{ as, http }, reg] = [await this.server(), await this.registration()];
    const response = await oauth.refreshTokenGrantRequest(
      as,
      reg.client,
      this.auth(reg),
      tokens.refreshToken,
      { ...http, additionalParameters: { resource: this.o.resource } },
    );
    const fresh = this.tokens(await oauth.processRefreshTokenResponse(as, reg.client, response));
    return {
      ...fresh,
      refreshToken: fresh.refreshToken ?? tokens.refreshToken,
      connectedAt: tokens.connectedAt,
    };
  }

  /** Revokes the tokens at the upstream (RFC 7009) when it offers revocation; failures are the caller's to ignore. */
  async revoke(tokens: UpstreamTokens): Promise<void> {
    const [{ as, http }, reg] = [await this.server(), await this.registration()];
    if (!as.revocation_endpoint) return;
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      if (!token) continue;
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, reg.client, this.auth(reg), token, http),
      );
    }
  }

  private tokens(r: oauth.TokenEndpointResponse): UpstreamTokens {
    if (r.token_type.toLowerCase() !== 'bearer')
      throw new UpstreamOAuthError(`the upstream issued ${r.token_type} tokens; only Bearer is supported`);
    const now = (this.o.now ?? Date.now)();
    return {
      accessToken: r.access_token,
      ...(r.refresh_token ? { refreshToken: r.refresh_token } : {}),
      ...(typeof r.expires_in === 'number' ? { expiresAt: now + r.expires_in * 1000 } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      connectedAt: now,
    };
  }
}

/** Rethrows an address refusal of a metadata-named endpoint as an {@link UpstreamEndpointRefused} that says which. */
function refusedAs(field: string, url: string) {
  return (err: unknown): never => {
    if (err instanceof AddressRefusedError)
      throw new UpstreamEndpointRefused(endpointRefusal(field, url, err));
    throw err;
  };
}
