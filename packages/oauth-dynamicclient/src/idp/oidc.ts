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
  /**
   * Admitted users (default `['*']`: everyone the provider authenticates), by
   * the provider's `sub` or the qualified id (`oidc:<issuer>#<sub>`), both
   * matched exactly (case-sensitively), or, for an entry containing `@`, by
   * `email` (case-insensitively) when the ID token says `email_verified: true`.
   * `preferred_username` is never matched: at many providers users choose it
   * themselves.
   */
  allowedUsers?: string[];
  /** Also admit members of these groups (the {@link groupsClaim} claim). */
  allowedGroups?: string[];
  /**
   * The claim that lists the user's groups (default `groups`; e.g. `roles` at
   * some providers). Its string values become the identity's groups, carried
   * in access tokens for authorization such as per-tool policy. Prefer a
   * provider that sends immutable ids (Entra ID sends object ids).
   */
  groupsClaim?: string;
  /**
   * When the ID token lacks {@link groupsClaim}, read it from the provider's
   * userinfo endpoint (one more request per sign-in; a failure fails the
   * sign-in). Default `false`.
   */
  groupsFromUserinfo?: boolean;
  /** Timeout for each upstream request (default 10 s). */
  timeoutMs?: number;
  /**
   * Label used as the `sub` prefix (default `oidc`): subjects are
   * `<id>:<issuer>#<sub>`, e.g. `oidc:https://kc.example.com/realms/mcp#8f2c…`.
   */
  id?: string;
}

/**
 * Any OpenID Connect provider (Keycloak, Auth0, Entra ID, Google…) through
 * oauth4webapi: discovery, authorization code with PKCE S256, nonce and
 * state, and ID-token validation (signature against the provider's JWKS,
 * `iss`, `aud`, `exp`, `nonce`). The upstream tokens are dropped once the
 * ID token has been read.
 *
 * The identity's `sub` is `<id>:<iss>#<sub>` (issuer-qualified, since a
 * provider's `sub` is unique only within its issuer); `login` is
 * `preferred_username ?? email ?? sub`, for display only.
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
  const groupsClaim = options.groupsClaim ?? 'groups';

  /** The groups claim from userinfo, when configured and the ID token had none. */
  const userinfoGroups = async (
    as: oauth.AuthorizationServer,
    sub: string,
    accessToken: string,
  ): Promise<unknown> => {
    if (!options.groupsFromUserinfo || !as.userinfo_endpoint) return undefined;
    try {
      const response = await oauth.userInfoRequest(as, client, accessToken, {
        ...insecure,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return (await oauth.processUserInfoResponse(as, client, sub, response))[groupsClaim];
    } catch (err) {
      throw new LoginError('unavailable', 'OIDC userinfo failed', undefined, { cause: err });
    }
  };
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
    thirdParty: true,
    displayName: new URL(options.issuer).host,
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
      let accessToken = '';
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
        accessToken = tokens.access_token;
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
      const subject = oidcSubject(id, claims.iss, claims.sub);
      const groups = stringList(claims[groupsClaim] ?? (await userinfoGroups(as, claims.sub, accessToken)));
      // Only values the provider vouches for: its sub, our qualified id, a verified e-mail address.
      const verifiedEmail = claims.email_verified === true ? str(claims.email) : undefined;
      const admitted =
        usersAdmit(options.allowedUsers ?? ['*'], claims.sub, subject, verifiedEmail) ||
        (groups.length > 0 && listAdmits(options.allowedGroups, ...groups));
      if (!admitted) throw new LoginError('not_allowed', 'OIDC user is not on the allow-list', username);
      const name = str(claims.name);
      const email = str(claims.email);
      return {
        sub: subject,
        login: username,
        ...(name ? { name } : {}),
        ...(email ? { email } : {}),
        ...(groups.length ? { groups } : {}),
      };
    },
  };
}

/**
 * Whether `allowed` names this user: `*`, the provider's `sub` or the qualified subject (exactly:
 * a `sub` is case-sensitive, and at some providers two users' subs differ only in case), or, for
 * an entry with `@`, the verified e-mail address (case-insensitively).
 */
function usersAdmit(
  allowed: string[],
  sub: string,
  subject: string,
  verifiedEmail: string | undefined,
): boolean {
  if (allowed.includes('*')) return true;
  if (allowed.includes(sub) || allowed.includes(subject)) return true;
  const email = verifiedEmail?.toLowerCase();
  return email !== undefined && allowed.some((a) => a.includes('@') && a.toLowerCase() === email);
}

/** The strings of a claim that should be a list of strings. */
function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string' && g.length > 0) : [];
}

/**
 * The gateway-wide subject of an OIDC user: `<label>:<issuer>#<sub>`. A
 * provider's `sub` is unique and stable only within its issuer, so the issuer
 * is part of the id.
 */
export function oidcSubject(label: string, issuer: string, sub: string): string {
  return `${label}:${issuer}#${sub}`;
}
