import * as oauth from 'oauth4webapi';
import {
  listAdmits,
  LoginError,
  type IdentityProvider,
  type IdpContext,
  type UpstreamIdentity,
} from './types.js';

/** Options for {@link oidcIdentityProvider}. */
export interface OidcIdentityProviderOptions {
  /** Issuer identifier; metadata comes from its `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string;
  /** How the client authenticates at the token endpoint (default `client_secret_basic` with a secret, else `none`). */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Scopes requested (default `openid profile email`). */
  scopes?: string[];
  /** Admitted users by `sub`, `preferred_username` or `email` (default `['*']`: everyone the provider authenticates). */
  allowedUsers?: string[];
  /** Also admit members of these groups (`groups` claim). */
  allowedGroups?: string[];
  /** Timeout for each upstream request (default 10 s). */
  timeoutMs?: number;
  /** Label used as the `sub` prefix (default `oidc`). Give each provider its own when you run several. */
  id?: string;
}

/**
 * Any OpenID Connect provider (Keycloak, Auth0, Entra ID, Google…) through
 * oauth4webapi: discovery, authorization code with PKCE S256, nonce and
 * state, and ID-token validation (signature against the provider's JWKS,
 * `iss`, `aud`, `exp`, `nonce`). The upstream tokens are dropped once the
 * ID token has been read.
 */
export function oidcIdentityProvider(options: OidcIdentityProviderOptions): IdentityProvider {
  const id = options.id ?? 'oidc';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const issuer = new URL(options.issuer);
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' };
  const method = options.tokenEndpointAuthMethod ?? (options.clientSecret ? 'client_secret_basic' : 'none');
  const client: oauth.Client = { client_id: options.clientId, token_endpoint_auth_method: method };
  const auth =
    method === 'none'
      ? oauth.None()
      : method === 'client_secret_post'
        ? oauth.ClientSecretPost(options.clientSecret ?? '')
        : oauth.ClientSecretBasic(options.clientSecret ?? '');
  const scope = (options.scopes ?? ['openid', 'profile', 'email']).join(' ');
  const jwksCache: oauth.JWKSCacheInput = {};
  let callbackUrl = '';
  let metadata: Promise<oauth.AuthorizationServer> | undefined;

  const discover = (): Promise<oauth.AuthorizationServer> => {
    metadata ??= (async () => {
      const response = await oauth.discoveryRequest(issuer, {
        algorithm: 'oidc',
        signal: AbortSignal.timeout(timeoutMs),
        ...insecure,
      });
      return oauth.processDiscoveryResponse(issuer, response);
    })().catch((err: unknown) => {
      metadata = undefined;
      throw new LoginError('unavailable', 'OIDC discovery failed', undefined, { cause: err });
    });
    return metadata;
  };

  return {
    id,
    attach(ctx: IdpContext) {
      callbackUrl = ctx.callbackUrl;
    },
    async begin({ state }) {
      const as = await discover();
      const verifier = oauth.generateRandomCodeVerifier();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        client_id: options.clientId,
        redirect_uri: callbackUrl,
        response_type: 'code',
        scope,
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      return { url: url.href, data: { verifier, nonce } };
    },
    async complete({ params, state, data }): Promise<UpstreamIdentity> {
      const as = await discover();
      let callback: URLSearchParams;
      try {
        callback = oauth.validateAuthResponse(as, client, params, state);
      } catch (err) {
        if (err instanceof oauth.AuthorizationResponseError) {
          throw new LoginError(
            err.error === 'access_denied' ? 'denied' : 'upstream_error',
            `OIDC: ${err.error}`,
          );
        }
        throw new LoginError('upstream_error', 'OIDC callback invalid', undefined, { cause: err });
      }
      let claims: oauth.IDToken;
      try {
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          callback,
          callbackUrl,
          data.verifier ?? '',
          { ...insecure, signal: AbortSignal.timeout(timeoutMs) },
        );
        if (response.status >= 500) {
          await response.body?.cancel();
          throw new LoginError('unavailable', `OIDC token endpoint answered ${response.status}`);
        }
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: data.nonce ?? '',
          requireIdToken: true,
        });
        await oauth.validateApplicationLevelSignature(as, response, {
          ...insecure,
          [oauth.jwksCache]: jwksCache,
          signal: AbortSignal.timeout(timeoutMs),
        });
        claims = oauth.getValidatedIdTokenClaims(tokens)!;
      } catch (err) {
        if (err instanceof LoginError) throw err;
        if (
          err instanceof Error &&
          (err.name === 'TimeoutError' || err.name === 'AbortError' || err instanceof TypeError)
        ) {
          throw new LoginError('unavailable', 'OIDC provider unreachable', undefined, { cause: err });
        }
        throw new LoginError(
          'upstream_error',
          `OIDC token exchange failed: ${err instanceof Error ? err.message : 'error'}`,
          undefined,
          {
            cause: err,
          },
        );
      }
      const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
      const username = str(claims.preferred_username) ?? str(claims.email) ?? claims.sub;
      const groups = Array.isArray(claims.groups)
        ? claims.groups.filter((g): g is string => typeof g === 'string')
        : [];
      const admitted =
        listAdmits(
          options.allowedUsers ?? ['*'],
          claims.sub,
          str(claims.preferred_username),
          str(claims.email),
        ) ||
        (groups.length > 0 && listAdmits(options.allowedGroups, ...groups));
      if (!admitted) throw new LoginError('not_allowed', 'OIDC user is not on the allow-list', username);
      const name = str(claims.name);
      const email = str(claims.email);
      return {
        sub: `${id}:${claims.sub}`,
        login: username,
        ...(name ? { name } : {}),
        ...(email ? { email } : {}),
      };
    },
  };
}
