import type { RouteRequest, ServerContext, ServerPlugin } from '../context.js';
import {
  issueOperatorGrant,
  type OperatorGrantInput,
  type OperatorTokenResponse,
} from '../grants/operator.js';
import { realRequest } from '@mcp-gateway/internal/lazy-request';
import { requireBearer, type BearerCheck, type RequireBearerOptions } from '../resource/require-bearer.js';
import type { Grant } from '../tokens/grants.js';
import type { JsonWebKeySet, SigningAlgorithm } from '../tokens/keys.js';
import {
  notATokenUnlessUnavailable,
  type VerifiedAccessToken,
  type VerifyAccessTokenOptions,
} from '../tokens/verifier.js';
import { authorizeRoutes } from './authorize.js';
import { callbackRoutes } from './callback.js';
import { consentRoutes } from './consent.js';
import { createFlowServices, flowServices } from './flow-services.js';
import { serverDpop } from '../dpop/services.js';
import { parseAuthorization, verifyPresentation, type ProofContext } from '../resource/presentation.js';
import { InvalidTokenError } from '../tokens/errors.js';
import { introspectRoutes } from './introspect.js';
import { revokeAccessToken, revokeRoutes } from './revoke.js';
import { tokenRoutes } from './token.js';
import { verifyRoutes } from './verify.js';

/**
 * Login (identity provider, consent), tokens (code and refresh grants, RFC
 * 7009, RFC 7662, JWKS) and ForwardAuth `/verify`.
 */
export const flowsPlugin: ServerPlugin = {
  name: 'flows',
  setup(ctx) {
    const services = createFlowServices(ctx);
    // Load or create the signing key before the first request.
    return services.keys.jwks().then(() => undefined);
  },
  warmUp: (ctx) =>
    flowServices(ctx)
      .keys.jwks()
      .then(() => undefined),
  routes: (ctx) => [
    ...authorizeRoutes(ctx),
    ...callbackRoutes(ctx),
    ...consentRoutes(ctx),
    ...tokenRoutes(ctx),
    ...revokeRoutes(ctx),
    ...introspectRoutes(ctx),
    ...verifyRoutes(ctx),
    // An identity provider's own routes may do anything with the request: give them the real one.
    ...(flowServices(ctx).idp.routes?.() ?? []).map((route) => ({
      ...route,
      handler: (request: Request, c: ServerContext, r: RouteRequest) =>
        // Provider handlers do not use the server context (ProviderRoute).
        route.handler(realRequest(request), c as never, r),
    })),
  ],
};

/** The typed operations of the flows on the server object. */
export interface FlowsApi {
  /**
   * Verifies an RFC 9068 access token for a resource (local keys, audience,
   * expiry, scopes, revocation).
   *
   * @throws InvalidTokenError (401 `invalid_token`) or InsufficientScopeError (403).
   */
  verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken>;
  /**
   * Verifies the token of an `Authorization` header presented as `Bearer` or
   * `DPoP` (RFC 9449 §7: the proof checked against `http` with the server's
   * replay cache and nonces), for callers that build their own responses
   * (a gateway route). Challenges: `bearerErrorResponse` with `challengeScheme`.
   *
   * @throws InvalidTokenError, InsufficientScopeError or DpopError.
   */
  verifyPresentedToken(
    authorization: string | null | undefined,
    http: ProofContext,
    options: Omit<VerifyAccessTokenOptions, 'dpopKey'>,
  ): Promise<VerifiedAccessToken>;
  /** A guard for fetch handlers: `{ ok, token }` or the ready 401/403 response. */
  requireBearer(options: RequireBearerOptions): (request: Request) => Promise<BearerCheck>;
  /** Grants (remembered consent) per user. */
  readonly grants: {
    /** Every grant of a user (`sub` as in the tokens, e.g. `github:583231`). */
    list(sub: string): Promise<Grant[]>;
    /** Withdraws consent: deletes the grant and revokes every token issued under it. `false` when not found. */
    revoke(grantId: string): Promise<boolean>;
  };
  /** Access tokens this server issued. */
  readonly tokens: {
    /**
     * Revokes an access token (by `jti`) and, when it was issued with a
     * refresh token, its whole family (RFC 7009 semantics without client
     * authentication: for the server's own sign-out pages). `false` when the
     * token is not one of ours or has expired.
     */
    revoke(accessToken: string): Promise<boolean>;
    /**
     * Issues a user's access token without a browser, as an operator of the
     * server (see {@link issueOperatorGrant}): consent is recorded in the
     * user's grant, where the user can revoke it.
     *
     * @throws OAuthError `invalid_client`, `invalid_target` or `invalid_scope`.
     */
    issue(input: OperatorGrantInput): Promise<OperatorTokenResponse>;
  };
  /** Signing keys. */
  readonly keys: {
    /** The published JWKS. */
    jwks(): Promise<JsonWebKeySet>;
    /** Starts signing with a new key; the old one stays published until its tokens expired. Returns the new `kid`. */
    rotate(alg?: SigningAlgorithm): Promise<string>;
  };
}

/** Builds {@link FlowsApi} for a server context. */
export function flowsApi(ctx: ServerContext): FlowsApi {
  const verifyAccessToken = (token: string, options: VerifyAccessTokenOptions) =>
    flowServices(ctx).verifier.verify(token, options);
  return {
    verifyAccessToken,
    async verifyPresentedToken(authorization, http, options) {
      const presented = parseAuthorization(authorization);
      if (!presented)
        throw new InvalidTokenError(
          'malformed',
          authorization ? 'malformed Authorization header' : 'an access token is required',
        );
      return verifyPresentation(presented, http, serverDpop(ctx), (dpopKey) =>
        verifyAccessToken(presented.token, dpopKey === undefined ? options : { ...options, dpopKey }),
      );
    },
    // The server's own proof verifier: jtis in its store, its nonces when `dpop.nonce` is on.
    requireBearer: (options) => requireBearer(verifyAccessToken, { dpop: serverDpop(ctx), ...options }),
    grants: {
      list: (sub) => flowServices(ctx).grants.listByUser(sub),
      async revoke(grantId) {
        const flows = flowServices(ctx);
        const grant = await flows.grants.get(grantId);
        if (!grant) return false;
        await flows.revokeGrant(grant, 'api');
        return true;
      },
    },
    tokens: {
      async revoke(accessToken) {
        const claims = await flowServices(ctx)
          .verifier.inspect(accessToken)
          .catch(notATokenUnlessUnavailable);
        if (!claims) return false;
        await revokeAccessToken(ctx, claims, { family: true });
        return true;
      },
      issue: (input) => issueOperatorGrant(ctx, input),
    },
    keys: {
      jwks: () => flowServices(ctx).keys.jwks(),
      rotate: (alg) => flowServices(ctx).keys.rotate(alg),
    },
  };
}
