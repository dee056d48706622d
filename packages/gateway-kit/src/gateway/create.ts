import {
  createIdentityProvider,
  type AuditRecord,
  type Clock,
  type IdentityProvider,
  type IdentityProviderConfig,
  type LocalUser,
  type PasswordCost,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';
import type { FederationHooks } from '../federation/hooks.js';
import { observeLogins } from './login-events.js';
import type { GatewayConfig } from '../config/schema.js';
import { instanceWarnings } from '../config/instance.js';
import { policyWarnings, subjectWarnings } from '../config/subjects.js';
import { createNodeServer, type NodeServer } from '../http/node.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { GatewayMetrics } from '../ops/metrics.js';
import { registerStdioMetrics } from '../ops/stdio-metrics.js';
import { metricsListener } from '../ops/metrics-endpoint.js';
import { WebhookDispatcher, type AuditEvent } from '../ops/webhooks.js';
import { systemResolver, type Resolver } from '../http/address-guard.js';
import { defaultBackendFactory } from '../services/factory.js';
import { RuntimeHttpGuard } from '../services/runtime-http.js';
import { sharedRequestStateSecret } from '../services/request-state-key.js';
import { ServiceRegistry, type BackendFactory } from '../services/registry.js';
import { VERSION } from '../version.js';
import { policyAudit } from '../policy/audit.js';
import { GatewayPolicy } from '../policy/gateway-policy.js';
import { policyHooks } from '../federation/policy-hooks.js';
import { sharedStoreSecret } from '../store/shared-secret.js';
import { UpstreamPages, type UpstreamService } from '../upstream/pages.js';
import { SecretBox } from '../upstream/secret-box.js';
import { UpstreamSignIn } from '../upstream/sign-in.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { accountPages } from './account.js';
import { landingPage } from './landing.js';
import { remoteIdentityProviderConfig } from './as-options.js';
import { rateLimitedPages } from './page-limit.js';
import { Authorization } from './authorization.js';
import { createGatewayHandler, type GatewayHandler } from './handler.js';
import { resourcesOf } from './resources.js';
import { createStore, storeReachable, type EmbeddedAccess } from './stores.js';
import { liveLocalIdentityProvider, LocalUsers } from './users.js';

export interface CreateGatewayOptions {
  /** Logger (default: pino JSON lines on stdout at `config.logging.level`). */
  logger?: Logger;
  /** Directory relative paths (`dataDir`, `store.path`) resolve against. Default `process.cwd()`. */
  cwd?: string;
  /** A store to use instead of the configured one (tests, embedding). */
  store?: Store;
  /**
   * How this process uses an embedded store (default `owner`: it serves the database on its
   * socket and refuses to start while another process serves it). Admin commands pass
   * `command`: through a running gateway's socket. See {@link EmbeddedAccess}.
   */
  storeAccess?: EmbeddedAccess;
  /** Backends to use instead of the built-in ones. */
  backendFactory?: BackendFactory;
  /** Include Node process metrics in `/metrics`. Default true. */
  processMetrics?: boolean;
  /**
   * Create `admin` with a random password when the local IdP has no users
   * (default true). `false` leaves it to {@link Gateway.bootstrapAdmin}, e.g.
   * after the listener is bound, so a start that fails creates nobody.
   */
  bootstrapAdmin?: boolean;
  /** Level of the per-request log line (default `info`). */
  accessLogLevel?: 'info' | 'debug';
  /**
   * scrypt cost of local users' password hashes (default N=2^17, r=8, p=1,
   * oauth-dynamicclient's `DEFAULT_PASSWORD_COST`). Lower it only in tests.
   */
  passwordCost?: PasswordCost;
  /** Hooks of the federated endpoints (`federated` in the config): per-call admission, per-list filter. */
  federationHooks?: FederationHooks;
  /**
   * How the gateway resolves the hosts it checks before connecting: upstreams of `http` services
   * added through the admin API (`admin.allowPrivateHttpServices`) and the endpoints an upstream's
   * OAuth metadata names (upstream sign-in). Default: the system resolver. Tests make a name
   * resolve to an internal address with it.
   */
  resolver?: Resolver;
  /**
   * For tests only (not a config key, not for production use): the time source of the
   * authorization server (its tokens, codes and rate-limit windows, the gateway's pages' among
   * them), of the `http` services' session bindings (their `sessionTimeout` idle times), of the
   * `stdio` services' bridges (their sessions' `sessionTimeout` and request deadlines,
   * swept as a `ManualClock` moves) and of the federated endpoints' resource subscriptions (how
   * long a member session lived before the member ended it), so a test moves a `ManualClock`
   * instead of sleeping through a timeout or waiting for a window. The rest of the gateway (the
   * store's entry lifetimes among it) keeps the wall clock. Default: the wall clock. The session
   * bindings and bridges do not use it with {@link CreateGatewayOptions.backendFactory}.
   */
  clock?: Clock;
  /**
   * For tests only, like {@link CreateGatewayOptions.clock} but apart from it: the clock of
   * upstream sign-in (ms since the epoch): when a user's upstream tokens are due for a refresh,
   * how long an upstream's discovery is kept. Default: {@link CreateGatewayOptions.clock}, else
   * `Date.now`.
   */
  now?: () => number;
}

/** A composed gateway: a fetch handler plus its parts and lifecycle. */
export interface Gateway {
  /** Serves every endpoint: web `Request` (and the edge's socket facts) in, `Response` out; serve it with {@link createNodeServer}. */
  fetch: GatewayHandler;
  readonly config: GatewayConfig;
  readonly store: Store;
  readonly authorization: Authorization;
  readonly services: ServiceRegistry;
  readonly users: LocalUsers;
  readonly metrics: GatewayMetrics;
  readonly webhooks: WebhookDispatcher;
  readonly logger: Logger;
  /** OpenTelemetry (`config.telemetry`): spans of MCP requests and their hops, exported by OTLP when configured. */
  readonly telemetry: Telemetry;
  /**
   * The per-tool policy (`policies` of the config, or the admin API's replacement), compiled
   * once; `admitCall` and `filterTools` apply it per service or federated endpoint.
   */
  readonly policy: GatewayPolicy;
  /**
   * On first start with the local IdP and no users: the generated `admin`
   * password (print it once; only its hash is stored). Otherwise `undefined`.
   */
  readonly initialAdminPassword: string | undefined;
  /**
   * With the local IdP and nobody who can sign in: creates `admin` with a
   * random password and resolves with it (print it once). Otherwise `undefined`.
   */
  bootstrapAdmin(): Promise<string | undefined>;
  /**
   * Starts node:http on `config.listen` (and the metrics listener on
   * `config.metrics.listen` when set); resolves with the main bound URL.
   */
  listen(): Promise<string>;
  /** The bound URL of the separate metrics listener once {@link listen} resolved; `undefined` without `metrics.listen`. */
  readonly metricsUrl: string | undefined;
  /** Drains requests (up to `graceMs`), ends every child process, closes the store. */
  close(graceMs?: number): Promise<void>;
}

/** Maps an authorization-server audit record to a webhook event family. */
export function auditToEvent(record: AuditRecord): AuditEvent | undefined {
  const { type, time: _time, issuer: _issuer, ...data } = record as AuditRecord & Record<string, unknown>;
  const t = String(type);
  const family: AuditEvent['type'] | undefined = t.startsWith('client.')
    ? 'registration'
    : t.startsWith('login.')
      ? 'login'
      : t.startsWith('consent.withdrawn') ||
          t.endsWith('.revoked') ||
          t.includes('reuse') ||
          t.includes('replayed')
        ? 'revocation'
        : t.startsWith('consent.')
          ? 'consent'
          : t.startsWith('token.')
            ? 'token'
            : undefined;
  return family ? { type: family, action: t, data } : undefined;
}

/**
 * Builds a gateway from a validated config: the store, the authorization
 * server (oauth-dynamicclient) with the configured identity provider, every
 * service (stdio bridge, http proxy, in-process fetch), webhooks, metrics and
 * logs. Call {@link Gateway.listen} to serve it over node:http, or mount
 * {@link Gateway.fetch} in any runtime.
 */
export async function createGateway(
  config: GatewayConfig,
  opts: CreateGatewayOptions = {},
): Promise<Gateway> {
  const cwd = opts.cwd ?? process.cwd();
  const logger = opts.logger ?? createLogger(config.logging.level);
  const store =
    opts.store ??
    (await createStore(
      config,
      cwd,
      (done) =>
        logger.info(
          'imported the file store (store.json) into the embedded store; the old file is kept as a backup',
          { entries: done.entries, backup: done.backup },
        ),
      { access: opts.storeAccess, warn: (message, fields) => logger.warn(message, fields) },
    ));
  for (const warning of subjectWarnings(config))
    logger.warn('config: a user list entry never matches', { config: warning });
  for (const warning of instanceWarnings(config))
    logger.warn('config: 2025 sessions cannot be routed to their instance', { config: warning });
  const metrics = new GatewayMetrics({
    processMetrics: opts.processMetrics ?? true,
    maxToolsPerService: config.metrics.maxToolsPerService,
  });
  const webhooks = new WebhookDispatcher({
    hooks: config.webhooks,
    logger,
    onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
  });
  const users = new LocalUsers(store, opts.passwordCost ? { passwordCost: opts.passwordCost } : {});
  let initialAdminPassword: string | undefined;
  let identityProvider: IdentityProvider | IdentityProviderConfig;
  if (config.idp.type === 'local') {
    const configUsers: LocalUser[] = config.idp.users;
    if (opts.bootstrapAdmin ?? true) initialAdminPassword = await users.bootstrapAdmin(configUsers);
    identityProvider = liveLocalIdentityProvider(configUsers, users);
  } else {
    identityProvider = remoteIdentityProviderConfig(config.idp);
  }
  const t = config.telemetry;
  const telemetry = await Telemetry.create(
    {
      otlpEndpoint: t.endpoint,
      otlpHeaders: t.headers,
      serviceName: t.serviceName,
      captureArguments: t.captureArguments,
      metricsIntervalMs: t.metricsInterval * 1000,
    },
    VERSION,
  );
  const resolver = opts.resolver ?? systemResolver;
  const requestStateSecret = await sharedRequestStateSecret(store);
  const signIn = new UpstreamSignIn({
    store,
    box: new SecretBox(await sharedStoreSecret(store, UPSTREAM_SECRET_KEY), 'upstream-tokens'),
    issuer: config.issuer,
    log: logger,
    resolver,
    requestStateSecret,
    ...(opts.now ? { now: opts.now } : opts.clock ? { now: () => opts.clock!.now() } : {}),
  });
  const runtimeHttp = new RuntimeHttpGuard(config.admin.allowPrivateHttpServices, resolver);
  const registry = new ServiceRegistry(
    config.issuer,
    config.services,
    opts.backendFactory ??
      defaultBackendFactory(
        logger,
        { requestStateSecret, instanceId: config.instanceId, ...(opts.clock ? { clock: opts.clock } : {}) },
        signIn,
        telemetry,
        store,
        runtimeHttp,
        opts.clock,
      ),
    store,
    config.admin.allowStdioServices,
  );
  await registry.refresh().catch((err: unknown) => {
    logger.warn('could not read runtime services from the store', { err: (err as Error).message });
  });
  const policy = new GatewayPolicy(config.policies, {
    store,
    onDecision: policyAudit(logger, metrics, webhooks),
    services: () => [...Object.keys(config.services), ...registry.list().map((e) => e.name)],
    check: (policies) => policyWarnings(config, undefined, policies),
  });
  await policy.refresh().catch((err: unknown) => {
    logger.warn('could not read runtime policies from the store', { err: (err as Error).message });
  });
  const authorization = new Authorization({
    config,
    store,
    identityProvider: observeLogins(
      'begin' in identityProvider ? identityProvider : createIdentityProvider(identityProvider),
      (identity) => {
        logger.info('signed in', { user: identity.sub });
        webhooks.emit({
          type: 'login',
          action: 'login.succeeded',
          data: {
            user: identity.sub,
            login: identity.login,
            ...(identity.name ? { name: identity.name } : {}),
          },
        });
      },
    ),
    logger,
    resources: resourcesOf(registry, config.issuer, config.federated),
    onAudit: (record) => {
      const event = auditToEvent(record);
      if (event && webhooks.wants(event.type)) webhooks.emit(event);
    },
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await authorization.server.ready();
  // Other instances may add services through the admin API: pick them up.
  const refresher = setInterval(() => {
    registry
      .refresh()
      .then((changed) => {
        if (changed) authorization.setResources(resourcesOf(registry, config.issuer, config.federated));
      })
      .catch(() => {});
    policy.refresh().catch(() => {});
  }, 10_000);
  refresher.unref();
  const fetch = createGatewayHandler({
    config,
    auth: authorization,
    registry,
    logger,
    metrics,
    webhooks,
    policy,
    storeReady: () => storeReachable(store),
    runtimeHttp,
    requestStateSecret,
    pages: rateLimitedPages(
      {
        ...landingPage({ config, registry, version: VERSION }),
        ...accountPages({
          config,
          authorization,
          logger,
          upstream: new UpstreamPages(signIn, () => upstreamServices(registry, runtimeHttp), logger),
        }),
      },
      (request, info) => authorization.rateLimitPage(request, info),
    ),
    version: VERSION,
    telemetry,
    ...(opts.accessLogLevel ? { accessLogLevel: opts.accessLogLevel } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    federationHooks: opts.federationHooks ?? policyHooks(policy, config.federated),
  });
  metrics.sessionSource = () =>
    registry.running().flatMap(([name, b]) => (b.sessions ? [[name, b.sessions()] as [string, number]] : []));
  registerStdioMetrics(metrics.registry, () =>
    registry.running().flatMap(([name, b]) => (b.stdioStats ? [[name, b.stdioStats()] as const] : [])),
  );
  let node: NodeServer | undefined;
  let metricsNode: NodeServer | undefined;
  let metricsUrl: string | undefined;
  let closing: Promise<void> | undefined;
  return {
    fetch,
    config,
    store,
    authorization,
    services: registry,
    users,
    metrics,
    webhooks,
    logger,
    policy,
    telemetry,
    initialAdminPassword,
    async bootstrapAdmin() {
      return config.idp.type === 'local' ? users.bootstrapAdmin(config.idp.users) : undefined;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    async listen() {
      const onError = (err: unknown) => logger.error('unhandled', { err: (err as Error).message });
      if (config.metrics.listen) {
        metricsNode = createNodeServer(metricsListener(metrics, config.metrics.token), { onError });
        metricsUrl = await metricsNode.listen(config.metrics.listen.port, config.metrics.listen.host);
      }
      node = createNodeServer(fetch, { onError });
      return node.listen(config.listen.port, config.listen.host);
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        clearInterval(refresher);
        await Promise.all([node?.drain(graceMs), metricsNode?.drain(Math.min(graceMs, 1000))]);
        await registry.close();
        await Promise.race([
          webhooks.idle(),
          new Promise((r) => setTimeout(r, Math.min(graceMs, 5000)).unref()),
        ]);
        await authorization.close().catch(() => {});
        await telemetry.shutdown().catch(() => {});
      })();
      return closing;
    },
  };
}

/** Store key of the secret upstream tokens and registrations are sealed with (shared by instances). */
const UPSTREAM_SECRET_KEY = 'gateway:upstream-secret';

/**
 * The `http` services whose upstream asks for the user's own account (`credentials: { type: oauth }`);
 * a runtime one keeps the address rule of runtime services (the same settings its proxy uses).
 */
function upstreamServices(registry: ServiceRegistry, runtimeHttp: RuntimeHttpGuard): UpstreamService[] {
  return registry.list().flatMap((e) =>
    e.config.type === 'http' && e.config.credentials?.type === 'oauth'
      ? [
          {
            name: e.name,
            settings: {
              url: e.config.url,
              ...e.config.credentials,
              addressRule: e.origin === 'runtime' ? runtimeHttp.rule : undefined,
            },
            ...(e.config.users ? { users: e.config.users } : {}),
          },
        ]
      : [],
  );
}
