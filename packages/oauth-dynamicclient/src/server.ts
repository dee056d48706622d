import { AuditEmitter } from './audit/events.js';
import { systemClock, unrefInterval } from './clock.js';
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
  liveProtectedResourceRoutes,
  protectedResourceMetadata,
  type ProtectedResourceMetadata,
} from './endpoints/protected-resource.js';
import { registerRoutes } from './endpoints/register.js';
import { registrationManagementRoutes } from './endpoints/registration-management.js';
import { flowsApi, flowsPlugin, type FlowsApi } from './endpoints/flows-plugin.js';
import { enabledGrantTypes } from './grants/options.js';
import { preflight, withCors } from './http/cors.js';
import {
  errorResponse,
  methodNotAllowed,
  notFound,
  OAuthError,
  stderrLogger,
  unavailableError,
  type Logger,
} from './http/errors.js';
import { acceptLazyRequests, realRequest } from '@mcp-gateway/internal/lazy-request';
import { FixedWindowLimiter, rateLimitSource, type RequestInfo } from './http/rate-limit.js';
import { cryptoIds } from './ids.js';
import { parseOptions, parseResources, type AuthorizationServerOptions } from './options.js';
import { ResourceSet, type ResourcesApi } from './resources.js';

export type { ResourcesApi } from './resources.js';
import { Router } from './router.js';
import { Pages } from './pages/pages.js';
import { isStoreUnavailable, StoreUnavailableError } from './store/errors.js';
import { MemoryStore } from './store/keyv.js';
import type { Store } from './store/types.js';

/** Discovery, protected-resource metadata and client registration (RFC 8414, 9728, 7591, 7592). */
export const corePlugin: ServerPlugin = {
  name: 'core',
  routes: (ctx) => [...metadataRoutes(ctx), ...registerRoutes(ctx), ...registrationManagementRoutes(ctx)],
  // One RFC 9728 route per resource, following `server.resources.set`.
  liveRoutes: liveProtectedResourceRoutes,
};

/** Every plugin the server is made of, in routing order. */
const plugins: ServerPlugin[] = [corePlugin, flowsPlugin];

/** What {@link AuthorizationServer.health} found. */
export interface ServerHealth {
  /** Everything below holds: a readiness probe (`/readyz`) should answer 200. */
  ok: boolean;
  /** The store answered a ping within the timeout. */
  store: boolean;
  /** Start-up work (loading or creating the signing keys) is done. */
  started: boolean;
  /** How long the store took to answer (or until the check gave up), in ms. */
  storeLatencyMs: number;
}

/** Options of {@link AuthorizationServer.close}. */
export interface CloseOptions {
  /**
   * Also close the store (default `true`, as before). Pass `false` to stop
   * only this server's timers when the store is shared with another server
   * object that keeps running.
   */
  store?: boolean;
}

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
  /**
   * Counts one request against the rate-limit `bucket`
   * (`options.rateLimits[bucket]`, else `default`), exactly as the server's
   * own endpoints are counted: same store (so instances sharing it share the
   * limit), same source rule (`trustProxyHops`, `rateLimitSource`), same
   * `rate_limited` audit event. For pages an application serves beside the
   * server (e.g. a gateway's account page). `info.remoteAddress` is the peer.
   *
   * @throws OAuthError 429 `rate_limited` with `Retry-After` when over the limit.
   */
  rateLimit(bucket: string, request: Request, info?: RequestInfo): Promise<void>;
  /**
   * Resolves when every plugin's start-up work is done (`fetch` waits for it
   * too). When it failed because the store was down, a later call (or
   * request) tries again.
   */
  ready(): Promise<void>;
  /**
   * Readiness check for probes (`/readyz`): pings the store (Redis `PING`,
   * otherwise a `get`) with a time limit and finishes start-up if it is still
   * pending. Never throws.
   */
  health(options?: { timeoutMs?: number }): Promise<ServerHealth>;
  /** The RFC 8414 metadata document. */
  metadata(): AuthorizationServerMetadata;
  /** The RFC 9728 document of a resource the server has now, or `undefined`. */
  protectedResourceMetadata(resource: string): ProtectedResourceMetadata | undefined;
  /**
   * The protected resources, changeable while the server runs: metadata,
   * RFC 9728 documents, `/authorize`, every grant's audience check, consent
   * and `/verify` follow {@link ResourcesApi.set} from the next request on.
   */
  readonly resources: ResourcesApi;
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
  /**
   * Stops the client-reaping timer and closes the store (unless
   * `{ store: false }`). Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
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
  const store: Store = options.store ?? new MemoryStore({ clock });
  const issuerUrl = new URL(options.issuer);
  const issuerPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname;
  const audit = new AuditEmitter(options.issuer, () => clock.now(), log, options.onAudit);
  const limiter = new FixedWindowLimiter(store, clock);
  const resources = new ResourceSet(options, input.scopes);
  const clients = new ClientRegistry(
    {
      clientTtlMs: options.registration.clientTtlMs,
      unusedClientTtlMs: options.registration.unusedClientTtlMs,
      maxClients: options.registration.maxClients,
      scopesSupported: () => resources.scopes,
      grantTypes: enabledGrantTypes(options.grants),
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
    (policy) => new CimdResolver(options.cimd, store, clock, policy, audit, log),
  );
  resources.onChange(() => clients.scopesChanged());

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
    resources,
    async rateLimit(bucket, request, info) {
      const limit = options.rateLimits[bucket] ?? options.rateLimits.default;
      if (!limit) return;
      const source =
        options.rateLimitSource?.(realRequest(request), info) ??
        rateLimitSource(request, info, options.trustProxyHops);
      try {
        await limiter.consume(bucket, source, limit);
      } catch (err) {
        if (err instanceof OAuthError) audit.emit('rate_limited', { bucket, source });
        throw err;
      }
    },
  };

  // A storage outage is logged once per minute, not once per request.
  let lastOutageLog = -Infinity;
  const outageLog: Logger = {
    debug: (message, fields) => log.debug(message, fields),
    info: (message, fields) => log.info(message, fields),
    error: (message, fields) => log.error(message, fields),
    warn(message, fields) {
      if (message === 'storage unavailable') {
        const now = clock.now();
        if (now - lastOutageLog < 60_000) return;
        lastOutageLog = now;
      }
      log.warn(message, fields);
    },
  };

  // Start-up: the plugins' setup; when it fails (a store that is down), the
  // next request or ready() runs their idempotent warmUp instead.
  let started = false;
  let startup: Promise<void> | undefined;
  const begin = (work: Promise<unknown>): Promise<void> => {
    const attempt = work.then(() => {
      started = true;
    });
    startup = attempt;
    attempt.catch((err: unknown) => {
      if (startup === attempt) startup = undefined;
      if (isStoreUnavailable(err)) outageLog.warn('storage unavailable', { errorMessage: err.message });
      else
        log.error('server start-up failed', {
          errorMessage: err instanceof Error ? err.message : String(err),
        });
    });
    return attempt;
  };
  void begin(Promise.all(plugins.map((p) => Promise.resolve(p.setup?.(ctx)))));
  const ensureStarted = (): Promise<void> =>
    started
      ? Promise.resolve()
      : (startup ?? begin(Promise.all(plugins.map((p) => Promise.resolve().then(() => p.warmUp?.(ctx))))));

  const pages = new Pages(options.pages);
  /** The one place errors become responses: HTML on browser pages for outages, else {@link errorResponse}. */
  const failure = (err: unknown, page: boolean | undefined): Response => {
    const unavailable = page ? unavailableError(err) : undefined;
    if (!unavailable) return errorResponse(err, outageLog);
    const storage = isStoreUnavailable(err);
    if (storage) outageLog.warn('storage unavailable', { errorMessage: err.message });
    return pages.error(
      'temporarily_unavailable',
      storage || !unavailable.description
        ? 'The server cannot reach its storage right now. Please try again in a moment.'
        : unavailable.description,
      unavailable.status,
      unavailable.headers,
    );
  };

  // Reaping of dynamic clients that expired unused or idle. A tick during a
  // pass runs one more pass right after it (ticks are never lost, passes never overlap).
  let reaping: Promise<void> | undefined;
  let reapAgain = false;
  let stopped = false;
  const reapNow = (): void => {
    if (stopped) return;
    if (reaping) {
      reapAgain = true;
      return;
    }
    reaping = clients
      .reap()
      .then(
        () => undefined,
        (err: unknown) => {
          if (isStoreUnavailable(err)) outageLog.warn('storage unavailable', { errorMessage: err.message });
          else
            log.error('client reaping failed', {
              errorMessage: err instanceof Error ? err.message : String(err),
            });
        },
      )
      .finally(() => {
        reaping = undefined;
        if (reapAgain) {
          reapAgain = false;
          reapNow();
        }
      });
  };
  const stopReaper =
    options.clientReapIntervalMs > 0
      ? (clock.every?.bind(clock) ?? unrefInterval)(options.clientReapIntervalMs, reapNow)
      : undefined;
  let closing: Promise<void> | undefined;

  const router = new Router(plugins.flatMap((p) => p.routes(ctx)));
  for (const p of plugins) if (p.liveRoutes) router.addLive(p.liveRoutes(ctx));

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
      if (!started) await ensureStarted();
      if (m.route.rateLimit) await ctx.rateLimit(m.route.rateLimit, request, info);
      response = await m.route.handler(request, ctx, { url, params: m.params, info });
    } catch (err) {
      response = failure(err, m.route.page);
    }
    if (method === 'HEAD')
      response = new Response(null, { status: response.status, headers: response.headers });
    return m.route.cors ? withCors(request, response, options.cors) : response;
  }

  return {
    // Only our own handlers see the request (IdP routes and hooks get realRequest()),
    // so the node adapter may pass light requests.
    fetch: acceptLazyRequests(async (request: Request, info: RequestInfo = {}) => {
      try {
        return await handle(request, info);
      } catch (err) {
        return errorResponse(err, outageLog);
      }
    }),
    issuer: options.issuer,
    store,
    context: ctx,
    rateLimit: (bucket, request, info) => ctx.rateLimit(bucket, request, info),
    ready: ensureStarted,
    async health({ timeoutMs = 2000 } = {}) {
      const t0 = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const within = <T>(p: Promise<T>) =>
        Promise.race([
          p,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new StoreUnavailableError('storage unavailable (health check timed out)')),
              Math.max(1, timeoutMs - (performance.now() - t0)),
            );
          }),
        ]).finally(() => clearTimeout(timer));
      let storeOk = false;
      try {
        await within(store.ping ? store.ping() : store.get('health:ping'));
        storeOk = true;
        if (!started) await within(ensureStarted());
      } catch {
        // reported below
      }
      return {
        ok: storeOk && started,
        store: storeOk,
        started,
        storeLatencyMs: Math.round(performance.now() - t0),
      };
    },
    metadata: () => authorizationServerMetadata(ctx),
    protectedResourceMetadata(resource) {
      const r = resources.find(resource);
      return r ? protectedResourceMetadata(options.issuer, r) : undefined;
    },
    resources: {
      list: () => [...resources.list],
      set: (list) => resources.replace(parseResources(list)),
    },
    clients: {
      register: (metadata) => clients.register(metadata, { source: 'api' }),
      get: (clientId) => clients.get(clientId),
      update: (clientId, metadata) => clients.update(clientId, metadata, { source: 'api' }),
      delete: (clientId) => clients.delete(clientId, 'api', 'api'),
      list: () => clients.list(),
      reap: () => clients.reap(),
    },
    close(opts = {}) {
      closing ??= (async () => {
        stopped = true;
        stopReaper?.();
        while (reaping) await reaping;
        if (opts.store !== false) await store.close();
      })();
      return closing;
    },
    ...flowsApi(ctx),
  };
}
