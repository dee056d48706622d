import {
  createAuthorizationServer,
  OAuthError,
  type AuditRecord,
  type AuthorizationServer,
  type AuthorizationServerOptions,
  type IdentityProvider,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';
import { AuthError, type GatewayAuth, type ResourceDescriptor } from '../auth.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { connectionInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import { storeReachable } from './stores.js';

/** Static client the gateway's own pages (connected apps) sign in with. */
export const ACCOUNT_CLIENT_ID = 'mcp-gateway-account';
/** Static client of `mcp-gateway token` (its redirect is never followed). */
export const CLI_CLIENT_ID = 'mcp-gateway-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/mcp-gateway-cli';
/** Rate-limit bucket of the gateway's own pages (`/account` and friends). */
export const PAGES_BUCKET = 'pages';
/** Requests per source and minute to the gateway's pages (as strict as the AS's `/authorize`). */
export const PAGES_RATE_LIMIT = { limit: 60, windowMs: 60_000 };

export interface AuthorizationDeps {
  config: GatewayConfig;
  store: Store;
  identityProvider: IdentityProvider | AuthorizationServerOptions['identityProvider'];
  logger: Logger;
  onAudit: (record: AuditRecord) => void;
  resources: ResourceDescriptor[];
}

/**
 * oauth-dynamicclient's authorization server as the gateway's {@link GatewayAuth}.
 * The server is rebuilt (state stays in the store) when services change at
 * runtime, since resources are fixed per server instance.
 */
export class Authorization implements GatewayAuth {
  private current: AuthorizationServer;

  constructor(private readonly deps: AuthorizationDeps) {
    this.current = this.build(deps.resources);
  }

  /** The authorization server in use now (typed operations: clients, grants, keys). */
  get server(): AuthorizationServer {
    return this.current;
  }

  private build(resources: ResourceDescriptor[]): AuthorizationServer {
    const { config, logger } = this.deps;
    const log = logger.child({ component: 'as' });
    const all = [
      ...resources,
      ...config.protectedResources.map((r) => ({
        resource: r.resource,
        scopes: r.scopes,
        name: r.title ?? r.resource,
      })),
    ];
    return createAuthorizationServer({
      issuer: config.issuer,
      store: this.deps.store,
      resources: all.map((r, i) => ({
        resource: r.resource,
        scopes: r.scopes,
        name: r.name,
        default: i === 0,
      })),
      identityProvider: this.deps.identityProvider,
      tokens: {
        accessTokenTtlSeconds: config.tokens.accessTokenTtl,
        refreshTokenTtlSeconds: config.tokens.refreshTokenTtl,
        codeTtlSeconds: config.tokens.codeTtl,
      },
      trustProxyHops: config.trustProxy ? 1 : 0,
      rateLimits: { [PAGES_BUCKET]: PAGES_RATE_LIMIT },
      cors: { origins: config.cors.origins.includes('*') ? '*' : config.cors.origins },
      staticClients: [
        {
          client_id: ACCOUNT_CLIENT_ID,
          client_name: 'mcp-gateway account page',
          redirect_uris: [`${config.issuer.replace(/\/+$/, '')}/account/callback`],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
        },
        {
          client_id: CLI_CLIENT_ID,
          client_name: 'mcp-gateway token command',
          redirect_uris: [CLI_REDIRECT_URI],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
        },
      ],
      logger: {
        debug: (msg: string, fields?: Record<string, unknown>) => log.debug(fields ?? {}, msg),
        info: (msg: string, fields?: Record<string, unknown>) => log.info(fields ?? {}, msg),
        warn: (msg: string, fields?: Record<string, unknown>) => log.warn(fields ?? {}, msg),
        error: (msg: string, fields?: Record<string, unknown>) => log.error(fields ?? {}, msg),
      },
      onAudit: this.deps.onAudit,
    });
  }

  fetch(request: Request): Promise<Response> {
    return this.current.fetch(request, { remoteAddress: connectionInfo(request)?.remoteAddress });
  }

  /**
   * Counts a request to one of the gateway's pages against the AS's
   * store-backed, per-source limiter ({@link PAGES_BUCKET}).
   *
   * @throws OAuthError 429 `rate_limited` with `Retry-After` when over the limit.
   */
  rateLimitPage(request: Request): Promise<void> {
    return this.current.rateLimit(PAGES_BUCKET, request, {
      remoteAddress: connectionInfo(request)?.remoteAddress,
    });
  }

  async verify(token: string, opts: { resource: string; scopes: string[] }): Promise<Identity> {
    try {
      const v = await this.current.verifyAccessToken(token, opts);
      return {
        sub: v.sub,
        ...((v.login ?? v.name) ? { name: v.login ?? v.name } : {}),
        clientId: v.clientId,
        scopes: v.scopes,
      };
    } catch (err) {
      if (err instanceof OAuthError && (err.status === 401 || err.status === 403)) {
        throw new AuthError(
          err.status,
          err.error === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token',
          err.description ?? err.error,
        );
      }
      if (err instanceof OAuthError && err.status === 503) {
        throw new GatewayError(
          503,
          JsonRpcCode.StoreUnavailable,
          'the token store is unavailable; try again shortly',
          {
            'retry-after': '5',
          },
        );
      }
      if (!(await storeReachable(this.deps.store, 1000))) {
        throw new GatewayError(
          503,
          JsonRpcCode.StoreUnavailable,
          'the token store is unavailable; try again shortly',
          {
            'retry-after': '5',
          },
        );
      }
      throw err;
    }
  }

  setResources(resources: ResourceDescriptor[]): void {
    const previous = this.current;
    this.current = this.build(resources);
    // The old instance shares our store: stop its timers (client reaping) without closing the store.
    void previous.close({ store: false }).catch(() => undefined);
  }

  async ready(): Promise<boolean> {
    return storeReachable(this.deps.store);
  }

  async close(): Promise<void> {
    await this.current.close();
  }
}
