import { ConfigError, fromZodIssues } from '../config/errors.js';
import { serviceRoute, type ServiceRoute } from '../config/routes.js';
import { serviceNameSchema, serviceSchema, type ServiceConfig } from '../config/schema.js';
import type { PublicRequest } from '../http/public-url.js';
import type { ServiceBackend } from './backend.js';

/** The slice of a key-value store the gateway keeps its own state in. */
export interface KeyValue {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
}

/**
 * Builds the backend of a service; `mcpPath` is the path its MCP endpoint answers on (e.g.
 * `/fetch/mcp`), `origin` where the service comes from (a runtime `http` service is guarded).
 */
export type BackendFactory = (
  name: string,
  config: ServiceConfig,
  mcpPath: string,
  origin?: ServiceEntry['origin'],
) => ServiceBackend;

/** A service known to the gateway. */
export interface ServiceEntry {
  name: string;
  config: ServiceConfig;
  route: ServiceRoute;
  /** `config`: from the config file (read-only at runtime); `runtime`: added through the admin API. */
  origin: 'config' | 'runtime';
}

/** Store key of the services added at runtime. */
export const RUNTIME_SERVICES_KEY = 'gateway:services';

/** A service could not be added or removed through the admin API. */
export class ServiceRegistryError extends Error {
  override readonly name = 'ServiceRegistryError';
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: 'invalid_service' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Every service, with its public route and its (lazily started) backend.
 * Services from the config file are fixed; services added through the admin
 * API are persisted in the store so every instance and restart sees them.
 */
export class ServiceRegistry {
  private entries = new Map<string, ServiceEntry>();
  private backends = new Map<string, { config: ServiceConfig; backend: ServiceBackend }>();
  private runtimeSnapshot = '';

  constructor(
    private readonly issuer: string,
    private readonly fileServices: Record<string, ServiceConfig>,
    private readonly factory: BackendFactory,
    private readonly store?: KeyValue,
    /** `admin.allowStdioServices`: without it, runtime `stdio` services in the store are not served. */
    private readonly runtimeStdio = false,
  ) {
    this.rebuild({});
  }

  private rebuild(runtime: Record<string, ServiceConfig>): void {
    const next = new Map<string, ServiceEntry>();
    const add = (name: string, config: ServiceConfig, origin: ServiceEntry['origin']) => {
      if (!config.enabled) return;
      next.set(name, { name, config, route: serviceRoute(this.issuer, name, config), origin });
    };
    for (const [name, config] of Object.entries(this.fileServices)) add(name, config, 'config');
    for (const [name, config] of Object.entries(runtime))
      if (!(name in this.fileServices)) add(name, config, 'runtime');
    this.entries = next;
    // End backends whose service is gone or changed.
    for (const [name, b] of this.backends) {
      const e = next.get(name);
      if (!e || JSON.stringify(e.config) !== JSON.stringify(b.config)) {
        this.backends.delete(name);
        void b.backend.close();
      }
    }
  }

  /** Reads services added at runtime from the store (call at start, and to pick up other instances' changes). */
  async refresh(): Promise<boolean> {
    if (!this.store) return false;
    const raw = (await this.store.get<Record<string, unknown>>(RUNTIME_SERVICES_KEY)) ?? {};
    const snapshot = JSON.stringify(raw);
    if (snapshot === this.runtimeSnapshot) return false;
    this.runtimeSnapshot = snapshot;
    const runtime: Record<string, ServiceConfig> = {};
    for (const [name, value] of Object.entries(raw)) {
      const parsed = serviceSchema.safeParse(value);
      if (!parsed.success || !serviceNameSchema.safeParse(name).success) continue;
      // A stdio service runs a command here: only when the config allows admins that.
      if (parsed.data.type === 'stdio' && !this.runtimeStdio) continue;
      runtime[name] = parsed.data;
    }
    this.rebuild(runtime);
    return true;
  }

  list(): ServiceEntry[] {
    return [...this.entries.values()];
  }

  get(name: string): ServiceEntry | undefined {
    return this.entries.get(name);
  }

  /** The service a request addresses: host routes first, then path routes; `undefined` when none. */
  match(pub: PublicRequest): ServiceEntry | undefined {
    let hostRouted = false;
    for (const e of this.entries.values()) {
      if (e.route.host === undefined) continue;
      if (e.route.host === pub.host) {
        hostRouted = true;
        if (pub.pathname === '/mcp') return e;
      }
    }
    if (hostRouted) return undefined;
    for (const e of this.entries.values()) {
      if (e.route.host === undefined && pub.pathname === `${e.route.prefix}/mcp`) return e;
    }
    return undefined;
  }

  /** The service whose RFC 9728 metadata lives at this public URL. */
  matchMetadata(pub: PublicRequest): ServiceEntry | undefined {
    const suffix = pub.pathname.slice('/.well-known/oauth-protected-resource'.length);
    for (const e of this.entries.values()) {
      const path = new URL(e.route.resource).pathname;
      if (suffix !== path) continue;
      if (e.route.host === undefined || e.route.host === pub.host) return e;
    }
    return undefined;
  }

  /** The running backend of a service, started on first use. */
  backend(entry: ServiceEntry): ServiceBackend {
    let b = this.backends.get(entry.name);
    if (!b) {
      b = {
        config: entry.config,
        backend: this.factory(entry.name, entry.config, new URL(entry.route.resource).pathname, entry.origin),
      };
      this.backends.set(entry.name, b);
    }
    return b.backend;
  }

  /** Backends started so far. */
  running(): [string, ServiceBackend][] {
    return [...this.backends].map(([n, b]) => [n, b.backend]);
  }

  /** Adds or replaces a runtime service (admin API). */
  async put(name: string, input: unknown): Promise<ServiceEntry> {
    if (!this.store) throw new ServiceRegistryError(409, 'conflict', 'no store for runtime services');
    if (!serviceNameSchema.safeParse(name).success) {
      throw new ServiceRegistryError(400, 'invalid_service', `invalid service name "${name}"`);
    }
    if (name in this.fileServices) {
      throw new ServiceRegistryError(409, 'conflict', `service "${name}" is defined in the config file`);
    }
    const parsed = serviceSchema.safeParse(input);
    if (!parsed.success) {
      const err = new ConfigError(`service ${name}`, fromZodIssues(parsed.error.issues));
      throw new ServiceRegistryError(400, 'invalid_service', err.message);
    }
    const raw = (await this.store.get<Record<string, unknown>>(RUNTIME_SERVICES_KEY)) ?? {};
    raw[name] = input;
    await this.store.set(RUNTIME_SERVICES_KEY, raw);
    this.runtimeSnapshot = '';
    await this.refresh();
    return this.entries.get(name)!;
  }

  /** Removes a runtime service and ends its backend. */
  async remove(name: string): Promise<void> {
    if (name in this.fileServices) {
      throw new ServiceRegistryError(409, 'conflict', `service "${name}" is defined in the config file`);
    }
    const raw = (await this.store?.get<Record<string, unknown>>(RUNTIME_SERVICES_KEY)) ?? {};
    if (!(name in raw)) throw new ServiceRegistryError(404, 'not_found', `no runtime service "${name}"`);
    delete raw[name];
    await this.store!.set(RUNTIME_SERVICES_KEY, raw);
    this.runtimeSnapshot = '';
    await this.refresh();
  }

  async close(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.allSettled(all.map((b) => b.backend.close()));
  }
}
