import {
  challengeScheme,
  createAuthorizationServer,
  dpopAlgorithms,
  DpopError,
  OAuthError,
  parseAuthorization,
  type AuditRecord,
  type AuthorizationServer,
  type AuthorizationServerOptions,
  type Clock,
  type IdentityProvider,
  type Store,
  type VerifiedAccessToken,
} from '@mcp-gateway/oauth-dynamicclient';
import {
  AuthError,
  type DpopChallengeInfo,
  type GatewayAuth,
  type PresentationContext,
  type ResourceDescriptor,
  unusableAuthorization,
} from '../auth.js';
import { childLogger } from '@mcp-gateway/internal/log';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError, JsonRpcCode } from '../errors.js';
import type { RequestInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import { authorizationResources, authorizationServerOptions, PAGES_BUCKET } from './as-options.js';
import { storeReachable } from './stores.js';

export {
  ACCOUNT_CLIENT_ID,
  CLI_CLIENT_ID,
  CLI_REDIRECT_URI,
  PAGES_BUCKET,
  PAGES_RATE_LIMIT,
} from './as-options.js';

export interface AuthorizationDeps {
  config: GatewayConfig;
  store: Store;
  identityProvider: IdentityProvider | AuthorizationServerOptions['identityProvider'];
  logger: Logger;
  onAudit: (record: AuditRecord) => void;
  resources: ResourceDescriptor[];
  /** The authorization server's time source (default: the wall clock); tests only, see `CreateGatewayOptions.clock`. */
  clock?: Clock;
}

/**
 * oauth-dynamicclient's authorization server as the gateway's {@link GatewayAuth}.
 * When services change at runtime, the server's resources follow
 * (`server.resources.set`); the server itself stays.
 */
export class Authorization implements GatewayAuth {
  /** The authorization server (typed operations: clients, grants, tokens, resources). */
  readonly server: AuthorizationServer;
  /** DPoP challenge parameters from `authorization.dpop` (`undefined` when DPoP is off). */
  readonly dpop: DpopChallengeInfo | undefined;

  constructor(private readonly deps: AuthorizationDeps) {
    this.server = this.build(deps.resources);
    const d = deps.config.authorization.dpop;
    this.dpop = d.enabled ? { algorithms: d.algorithms ?? dpopAlgorithms, required: d.required } : undefined;
  }

  private build(resources: ResourceDescriptor[]): AuthorizationServer {
    return createAuthorizationServer(
      authorizationServerOptions(this.deps.config, resources, {
        store: this.deps.store,
        identityProvider: this.deps.identityProvider,
        logger: childLogger(this.deps.logger, { component: 'as' }),
        onAudit: this.deps.onAudit,
        ...(this.deps.clock ? { clock: this.deps.clock } : {}),
      }),
    );
  }

  fetch(request: Request, info: RequestInfo = {}): Promise<Response> {
    return this.server.fetch(request, info);
  }

  /**
   * Counts a request to one of the gateway's pages against the AS's
   * store-backed, per-source limiter ({@link PAGES_BUCKET}).
   *
   * @throws OAuthError 429 `rate_limited` with `Retry-After` when over the limit.
   */
  rateLimitPage(request: Request, info: RequestInfo): Promise<void> {
    return this.server.rateLimit(PAGES_BUCKET, request, info);
  }

  async verify(token: string, opts: { resource: string; scopes: string[] }): Promise<Identity> {
    try {
      return identityOf(await this.server.verifyAccessToken(token, opts));
    } catch (err) {
      throw await this.refusal(err, undefined);
    }
  }

  /**
   * An `Authorization` header as presented, through the authorization
   * server's own checks (`verifyPresentedToken`: a DPoP proof for `http`
   * with its replay cache and nonces, `cnf.jkt` binding). With
   * `authorization.dpop.required`, the Bearer scheme is refused.
   */
  async authenticate(
    authorization: string | null | undefined,
    http: PresentationContext,
    opts: { resource: string; scopes: string[] },
  ): Promise<Identity> {
    const presented = parseAuthorization(authorization);
    if (!presented) throw unusableAuthorization(authorization ?? '', ['bearer', 'dpop']);
    if (this.dpop?.required && presented.scheme === 'Bearer')
      throw new AuthError(401, 'invalid_token', 'this resource accepts DPoP-bound tokens only', {
        dpop: true,
      });
    try {
      return identityOf(await this.server.verifyPresentedToken(authorization, http, opts));
    } catch (err) {
      throw await this.refusal(err, authorization);
    }
  }

  /** The gateway error for a refused token or proof; `authorization` decides the challenge scheme. */
  private async refusal(err: unknown, authorization: string | null | undefined): Promise<unknown> {
    if (err instanceof DpopError) {
      return new AuthError(401, err.code, err.description, {
        dpop: true,
        ...(err.nonce ? { nonce: err.nonce } : {}),
      });
    }
    if (err instanceof OAuthError && (err.status === 401 || err.status === 403)) {
      const dpop = challengeScheme(parseAuthorization(authorization), err, false).dpop !== undefined;
      return new AuthError(
        err.status,
        err.error === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token',
        err.description ?? err.error,
        dpop ? { dpop } : {},
      );
    }
    if (err instanceof OAuthError && err.status === 503) return storeUnavailable();
    if (!(await storeReachable(this.deps.store, 1000))) return storeUnavailable();
    return err;
  }

  /** The services' resources changed: the authorization server follows them without a rebuild. */
  setResources(resources: ResourceDescriptor[]): void {
    this.server.resources.set(authorizationResources(this.deps.config, resources));
  }

  async ready(): Promise<boolean> {
    return storeReachable(this.deps.store);
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}

/** The gateway identity of a verified access token. */
function identityOf(v: VerifiedAccessToken): Identity {
  return {
    sub: v.sub,
    ...((v.login ?? v.name) ? { name: v.login ?? v.name } : {}),
    clientId: v.clientId,
    scopes: v.scopes,
    ...(v.groups?.length ? { groups: v.groups } : {}),
  };
}

const storeUnavailable = () =>
  new GatewayError(503, JsonRpcCode.StoreUnavailable, 'the token store is unavailable; try again shortly', {
    'retry-after': '5',
  });
