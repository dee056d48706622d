import type { AuditEmitter } from './audit/events.js';
import type { Clock } from './clock.js';
import type { ClientRegistry } from './clients/registry.js';
import type { Logger } from './http/errors.js';
import type { RequestInfo } from './http/rate-limit.js';
import type { IdGenerator } from './ids.js';
import type { ResolvedOptions } from './options.js';
import type { ResourceSet } from './resources.js';
import type { HttpMethod, RouteHandlerOf, RouteOf, RouteRequest } from './route.js';
import type { Store } from './store/types.js';

export type { HttpMethod, RouteRequest };

/**
 * Everything a handler needs, built once per server. Handlers must take
 * time, randomness and storage from here (never `Date.now()` or
 * `Math.random()`), so tests can drive them.
 *
 * Modules that need more services add fields here (small additive edit) and
 * fill them in their plugin's `setup`.
 */
export interface ServerContext {
  /**
   * Validated options with defaults applied. Their `resources`, `scopes` and
   * `advertisedScopes` are those at construction: read {@link resources}.
   */
  readonly options: ResolvedOptions;
  /** The protected resources now (changed at runtime by `server.resources.set`). */
  readonly resources: ResourceSet;
  /** The issuer identifier, without a trailing slash (e.g. `https://host/auth`). */
  readonly issuer: string;
  /** The issuer's path without a trailing slash (`''` at the root, `/auth` under a prefix). */
  readonly issuerPath: string;
  /** Absolute URL of an endpoint below the issuer: `ctx.endpoint('/token')` → `https://host/auth/token`. */
  endpoint(path: string): string;
  /** Absolute URL on the issuer's host, outside its path (well-known documents). */
  hostUrl(path: string): string;
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly log: Logger;
  /** Typed audit events (`ctx.audit.emit('client.registered', {...})`). */
  readonly audit: AuditEmitter;
  /** All clients: lookup (`get`), secrets (`verifyClientSecret`), grants (`assertGrantAllowed`), `touch`, `onDeleted` hook. */
  readonly clients: ClientRegistry;
  /**
   * Counts a request against a rate-limit bucket (configured in `options.rateLimits`).
   * Routes with `rateLimit` set get this automatically.
   *
   * @throws OAuthError 429 with `Retry-After`.
   */
  rateLimit(bucket: string, request: Request, info?: RequestInfo): Promise<void>;
}

/**
 * A route handler: takes the web `Request`, returns a `Response`. Throw
 * `OAuthError` for errors; the server turns it into the RFC response (and
 * anything else into a 500 without details).
 */
export type RouteHandler = RouteHandlerOf<ServerContext>;

/** One entry of the route table. */
export type Route = RouteOf<ServerContext>;

/**
 * A group of routes plus start-up work. The server composes plugins; each
 * endpoint family (core, flows) contributes one.
 */
export interface ServerPlugin {
  name: string;
  /** The routes this plugin serves. Called once, after every plugin's `setup` finished. */
  routes(ctx: ServerContext): Route[];
  /**
   * Routes that follow live state (the RFC 9728 route of each resource).
   * Called once; the function it returns is read on each request and returns
   * the same array until its routes change.
   */
  liveRoutes?(ctx: ServerContext): () => readonly Route[];
  /**
   * Start-up work (register hooks with `ctx.clients.onDeleted`, load keys from
   * the store…). Synchronous part runs at construction; a returned promise is
   * awaited before the first request is served.
   */
  setup?(ctx: ServerContext): void | Promise<void>;
  /**
   * Idempotent asynchronous start-up work, run instead of `setup` when the
   * promise `setup` returned failed (typically: the store was unreachable at
   * start-up); retried on later requests until it succeeds.
   */
  warmUp?(ctx: ServerContext): Promise<void>;
}
