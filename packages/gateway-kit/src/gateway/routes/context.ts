import { randomBytes } from 'node:crypto';
import type { Clock } from '@mcp-gateway/oauth-dynamicclient';
import {
  AuthError,
  bearerFromHeader,
  challenge,
  type GatewayAuth,
  type PresentationContext,
  type ResourceDescriptor,
} from '../../auth.js';
import type { GatewayConfig } from '../../config/schema.js';
import { Cors } from '../../http/cors.js';
import type { RequestInfo } from '../../http/node.js';
import type { PublicRequest } from '../../http/public-url.js';
import type { FederationHooks } from '../../federation/hooks.js';
import type { GatewayPage } from '../page-limit.js';
import type { Identity } from '../../identity.js';
import type { Logger } from '../../ops/logger.js';
import type { GatewayMetrics } from '../../ops/metrics.js';
import type { WebhookDispatcher } from '../../ops/webhooks.js';
import type { GatewayPolicy } from '../../policy/gateway-policy.js';
import type { ServiceRegistry } from '../../services/registry.js';
import { RuntimeHttpGuard } from '../../services/runtime-http.js';
import type { Telemetry } from '../../telemetry/telemetry.js';
import { adminResource } from '../resources.js';

/** What the gateway's request handler is made of. */
export interface GatewayHandlerDeps {
  config: GatewayConfig;
  auth: GatewayAuth;
  registry: ServiceRegistry;
  logger: Logger;
  metrics: GatewayMetrics;
  webhooks: WebhookDispatcher;
  /** Per-tool policy of the services (absent: every tool listed, every call forwarded). */
  policy?: GatewayPolicy;
  /** True when the gateway's own store is reachable. */
  storeReady: () => Promise<boolean>;
  /** Extra pages mounted on the gateway (e.g. the connected-apps page): path → handler. */
  pages?: Record<string, GatewayPage>;
  version: string;
  /** Hooks of the federated endpoints (a policy engine's per-call and per-list checks). */
  federationHooks?: FederationHooks;
  /** OpenTelemetry: MCP requests are traced when it is enabled (`telemetry.endpoint` set). */
  telemetry?: Telemetry;
  /** Level of the one line logged per request (default `info`; `debug` keeps a terminal readable). */
  accessLogLevel?: 'info' | 'debug';
  /**
   * The address rule of `http` services added through the admin API, checked when one is added
   * (default: `admin.allowPrivateHttpServices` of the config, the system resolver).
   */
  runtimeHttp?: RuntimeHttpGuard;
  /**
   * The secret the `requestState` keys of the gateway's own MRTR steps derive from (a federated
   * endpoint's URL elicitation), shared by the instances on one store
   * (`sharedRequestStateSecret`). Default: random per handler, so only this process takes the retries.
   */
  requestStateSecret?: Uint8Array;
  /**
   * For tests only (see `CreateGatewayOptions.clock`): the time source of the federated endpoints'
   * resource subscriptions (how long a member session lived before the member ended it).
   * Default: the wall clock.
   */
  clock?: Clock;
}

/** One route the gateway answers itself, before any service (see `createGatewayHandler`). */
export interface OwnRoute {
  /** The route label of metrics and the access log. */
  readonly kind: string;
  /** True when the request is this route's: `path` is the issuer-local path (`undefined` outside the issuer's path). */
  matches(path: string | undefined, pub: PublicRequest, method: string): boolean;
  /** The answer; `undefined` lets the request go on to the services and the authorization server. */
  serve(
    request: Request,
    pub: PublicRequest,
    log: Logger,
    path: string | undefined,
    info: RequestInfo,
  ): Promise<Response | undefined>;
}

/** The dependencies plus what every route derives from the config once. */
export interface RouteContext extends GatewayHandlerDeps {
  issuer: URL;
  /** The issuer without a trailing slash (`authorization_servers` of RFC 9728 documents). */
  issuerBase: string;
  cors: Cors;
  /** The admin API as a protected resource. */
  admin: ResourceDescriptor;
  /** Where runtime `http` services may lead (see {@link GatewayHandlerDeps.runtimeHttp}). */
  runtimeHttp: RuntimeHttpGuard;
  /** See {@link GatewayHandlerDeps.requestStateSecret} (a random one when none was given). */
  requestStateSecret: Uint8Array;
  /** The path below the issuer's path, or `undefined` for a request outside it. */
  local(pub: PublicRequest): string | undefined;
  /**
   * The identity of an access token for `resource` with `scopes`: `Bearer`,
   * or `DPoP` with a proof for `http` when the authorization server checks
   * presentations (RFC 9449 §7); {@link AuthError} otherwise.
   */
  authenticate(
    authorization: string | null | undefined,
    resource: string,
    scopes: string[],
    http?: PresentationContext,
  ): Promise<Identity>;
  /**
   * The RFC 6750 answer to an {@link AuthError}, with the RFC 9728 challenge
   * (and the RFC 9449 `DPoP` one, plus `DPoP-Nonce`, when DPoP is on).
   */
  authFailure(
    err: AuthError,
    metadataUrl: string,
    scopes: string[],
    extra?: Record<string, string>,
  ): Response;
}

/** Builds the {@link RouteContext} of a handler. */
export function routeContext(deps: GatewayHandlerDeps): RouteContext {
  const { config, auth } = deps;
  const issuer = new URL(config.issuer);
  const issuerPath = issuer.pathname.replace(/\/+$/, '');
  return {
    ...deps,
    issuer,
    issuerBase: config.issuer.replace(/\/+$/, ''),
    cors: new Cors(config.cors.origins),
    admin: adminResource(config.issuer),
    runtimeHttp: deps.runtimeHttp ?? new RuntimeHttpGuard(config.admin.allowPrivateHttpServices),
    requestStateSecret: deps.requestStateSecret ?? randomBytes(32),
    local: (pub) =>
      pub.pathname.startsWith(issuerPath) ? pub.pathname.slice(issuerPath.length) || '/' : undefined,
    async authenticate(authorization, resource, scopes, http) {
      if (http && auth.authenticate) {
        if (!authorization) throw new AuthError(401, undefined, 'an access token is required');
        return auth.authenticate(authorization, http, { resource, scopes });
      }
      const token = bearerFromHeader(authorization);
      if (!token) throw new AuthError(401, undefined, 'an access token is required');
      return auth.verify(token, { resource, scopes });
    },
    authFailure(err, metadataUrl, scopes, extra = {}) {
      return Response.json(
        { error: err.error ?? 'unauthorized', error_description: err.description },
        {
          status: err.status,
          headers: {
            'www-authenticate': challenge(metadataUrl, scopes, err, auth.dpop),
            'cache-control': 'no-store',
            ...(err.options.nonce ? { 'dpop-nonce': err.options.nonce } : {}),
            ...extra,
          },
        },
      );
    },
  };
}
