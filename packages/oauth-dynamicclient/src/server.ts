import { AuditEmitter } from './audit/events.js';
import { systemClock } from './clock.js';
import { CimdResolver } from './clients/cimd.js';
import type { Client, Registration } from './clients/records.js';
import { ClientRegistry } from './clients/registry.js';
import type { ServerContext, ServerPlugin } from './context.js';
import {
  authorizationServerMetadata,
  metadataRoutes,
  type AuthorizationServerMetadata,
} from './endpoints/metadata.js';
import {
  protectedResourceMetadata,
  protectedResourceRoutes,
  type ProtectedResourceMetadata,
} from './endpoints/protected-resource.js';
import { registerRoutes } from './endpoints/register.js';
import { registrationManagementRoutes } from './endpoints/registration-management.js';
import { flowsApi, flowsPlugin, type FlowsApi } from './endpoints/flows-plugin.js';
import { preflight, withCors } from './http/cors.js';
import { errorResponse, methodNotAllowed, notFound, OAuthError, stderrLogger } from './http/errors.js';
import { FixedWindowLimiter, rateLimitSource, type RequestInfo } from './http/rate-limit.js';
import { cryptoIds } from './ids.js';
import { parseOptions, type AuthorizationServerOptions } from './options.js';
import { Router } from './router.js';
import { MemoryStore } from './store/keyv.js';
import type { Store } from './store/types.js';

/** Discovery, protected-resource metadata and client registration (RFC 8414, 9728, 7591, 7592). */
export const corePlugin: ServerPlugin = {
  name: 'core',
  routes: (ctx) => [
    ...metadataRoutes(ctx),
    ...protectedResourceRoutes(ctx),
    ...registerRoutes(ctx),
    ...registrationManagementRoutes(ctx),
  ],
};

/** Every plugin the server is made of, in routing order. */
const plugins: ServerPlugin[] = [corePlugin, flowsPlugin];

/** An authorization server: a fetch handler plus typed operations. */
export interface AuthorizationServer extends FlowsApi {
  /**
   * Serves every endpoint. `info.remoteAddress` (the node adapter passes it)
   * is used for rate limiting.
   */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /** The issuer identifier (no trailing slash). */
  readonly issuer: string;
  readonly store: Store;
  /** The shared handler context (for plugins and tests). */
  readonly context: ServerContext;
  /** Resolves when every plugin's start-up work is done (`fetch` waits for it too). */
  ready(): Promise<void>;
  /** The RFC 8414 metadata document. */
  metadata(): AuthorizationServerMetadata;
  /** The RFC 9728 document of a configured resource, or `undefined`. */
  protectedResourceMetadata(resource: string): ProtectedResourceMetadata | undefined;
  /** Client management without HTTP (same validation as the endpoints; no rate limits or initial access token). */
  readonly clients: {
    register(metadata: unknown): Promise<Registration>;
    get(clientId: string): Promise<Client | undefined>;
    update(clientId: string, metadata: unknown): Promise<Registration>;
    delete(clientId: string): Promise<boolean>;
    list(): Promise<string[]>;
    /** Removes clients that expired unused and runs the deletion hooks; returns how many. */
    reap(): Promise<number>;
  };
  /** Closes the store. */
  close(): Promise<void>;
}

/**
 * Creates an authorization server.
 *
 * @throws OptionsError naming every invalid option.
 */
export function createAuthorizationServer(input: AuthorizationServerOptions): AuthorizationServer {
  const options = parseOptions(input);
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? cryptoIds;
  const log = options.logger ?? stderrLogger;
  const store = options.store ?? new MemoryStore({ clock });
  const issuerUrl = new URL(options.issuer);
  const issuerPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname;
  const audit = new AuditEmitter(options.issuer, () => clock.now(), log, options.onAudit);
  const limiter = new FixedWindowLimiter(store, clock);
  const clients = new ClientRegistry(
    {
      clientTtlMs: options.registration.clientTtlMs,
      unusedClientTtlMs: options.registration.unusedClientTtlMs,
      scopesSupported: options.scopes,
      staticClients: options.staticClients,
      ...(options.registration.redirectUriAllowList
        ? { redirectUriAllowList: options.registration.redirectUriAllowList }
        : {}),
      ...(options.registration.grantPolicy ? { grantPolicy: options.registration.grantPolicy } : {}),
    },
    store,
    clock,
    ids,
    audit,
    log,
    (policy) => new CimdResolver(options.cimd, store, clock, policy, audit),
  );

  const ctx: ServerContext = {
    options,
    issuer: options.issuer,
    issuerPath,
    endpoint: (path) => `${options.issuer}${path}`,
    hostUrl: (path) => `${issuerUrl.origin}${path}`,
    store,
    clock,
    ids,
    log,
    audit,
    clients,
    async rateLimit(bucket, request, info) {
      const limit = options.rateLimits[bucket] ?? options.rateLimits.default;
      if (!limit) return;
      const source =
        options.rateLimitSource?.(request, info) ?? rateLimitSource(request, info, options.trustProxyHops);
      try {
        await limiter.consume(bucket, source, limit);
      } catch (err) {
        if (err instanceof OAuthError) audit.emit('rate_limited', { bucket, source });
        throw err;
      }
    },
  };

  const setups = plugins.map((p) => Promise.resolve(p.setup?.(ctx)));
  const readyPromise = Promise.all(setups).then(() => undefined);
  readyPromise.catch((err: unknown) =>
    log.error('server start-up failed', { errorMessage: err instanceof Error ? err.message : String(err) }),
  );
  const router = new Router(plugins.flatMap((p) => p.routes(ctx)));

  async function handle(request: Request, info: RequestInfo): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    if (method === 'OPTIONS') {
      const m = router.match('OPTIONS', url.pathname);
      if (m.kind === 'method-not-allowed' && m.cors) return preflight(request, m.allow, options.cors);
      if (m.kind === 'method-not-allowed') return methodNotAllowed(m.allow).toResponse();
      return notFound().toResponse();
    }
    const m = router.match(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (m.kind === 'not-found') return notFound().toResponse();
    if (m.kind === 'method-not-allowed') {
      const res = methodNotAllowed(m.allow).toResponse();
      return m.cors ? withCors(request, res, options.cors) : res;
    }
    let response: Response;
    try {
      await readyPromise;
      if (m.route.rateLimit) await ctx.rateLimit(m.route.rateLimit, request, info);
      response = await m.route.handler(request, ctx, { url, params: m.params, info });
    } catch (err) {
      response = errorResponse(err, log);
    }
    if (method === 'HEAD')
      response = new Response(null, { status: response.status, headers: response.headers });
    return m.route.cors ? withCors(request, response, options.cors) : response;
  }

  return {
    fetch: async (request, info = {}) => {
      try {
        return await handle(request, info);
      } catch (err) {
        return errorResponse(err, log);
      }
    },
    issuer: options.issuer,
    store,
    context: ctx,
    ready: () => readyPromise,
    metadata: () => authorizationServerMetadata(ctx),
    protectedResourceMetadata(resource) {
      const r = options.resources.find((x) => x.resource === resource);
      return r ? protectedResourceMetadata(options.issuer, r) : undefined;
    },
    clients: {
      register: (metadata) => clients.register(metadata, { source: 'api' }),
      get: (clientId) => clients.get(clientId),
      update: (clientId, metadata) => clients.update(clientId, metadata, { source: 'api' }),
      delete: (clientId) => clients.delete(clientId, 'api', 'api'),
      list: () => clients.list(),
      reap: () => clients.reap(),
    },
    close: () => store.close(),
    ...flowsApi(ctx),
  };
}
