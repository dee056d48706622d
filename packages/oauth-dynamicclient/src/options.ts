import { canonicalIssuer } from '@mcp-gateway/internal/oauth-metadata-urls';
import { z } from 'zod';
import type { AuditListener } from './audit/events.js';
import type { Clock } from './clock.js';
import type { DnsResolver } from './clients/safe-fetch.js';
import type { GrantPolicy, StaticClientConfig } from './clients/registry.js';
import type { CorsOptions } from './http/cors.js';
import type { Logger } from './http/errors.js';
import type { RequestInfo } from './http/rate-limit.js';
import { runtimeWithoutPeerAddress } from './http/peer-address.js';
import type { IdGenerator } from './ids.js';
import type { Store } from './store/types.js';
import { flowOptionsShape } from './endpoints/flow-options.js';
import { machineOptionsShape } from './grants/options.js';
import { dpopOptionsShape } from './dpop/options.js';
import { workloadIssuersSchema } from './grants/workload-options.js';
import { resourceListSchema, resourceState, scopeToken } from './resources.js';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/**
 * Every default, in one place. The README's options table mirrors this object.
 */
export const defaults = {
  /** Largest request body accepted (413 above). */
  maxBodyBytes: 16 * 1024,
  /** `Cache-Control: max-age` of metadata documents, in seconds. */
  metadataMaxAgeSeconds: 300,
  /** How many reverse proxies in front of the server append to `X-Forwarded-For` (0 = ignore the header). */
  trustProxyHops: 0,
  cors: { origins: '*' as CorsOptions['origins'] },
  registration: {
    /** Serve RFC 7591 `/register` and RFC 7592 `/register/{id}`. */
    enabled: true,
    /** A dynamic client lives this long after its last use (renewed on use). `null` = forever. */
    clientTtlMs: (90 * day) as number | null,
    /** A dynamic client that is never used is reaped after this long. `null` = use `clientTtlMs`. */
    unusedClientTtlMs: day as number | null,
    /** Most live dynamic clients (all callers together); registrations beyond are 503 `temporarily_unavailable`. */
    maxClients: 10_000,
  },
  /**
   * How often expired dynamic clients are reaped (index entries dropped,
   * deletion hooks run) on a timer that never keeps the process alive.
   * `0` disables the timer (call `server.clients.reap()` yourself).
   */
  clientReapIntervalMs: hour,
  cimd: {
    enabled: true,
    allowLoopback: false,
    allowPrivate: false,
    timeoutMs: 5_000,
    maxBytes: 5 * 1024,
    cacheMaxMs: day,
    cacheDefaultMs: 5 * minute,
    /** Most documents cached at once; beyond it documents are fetched but not cached. */
    cacheMaxEntries: 1_000,
  },
  /** Per-source limits by bucket. Endpoints name their bucket; unknown buckets use `default`. */
  rateLimits: {
    register: { limit: 20, windowMs: minute },
    registrationManagement: { limit: 60, windowMs: minute },
    /** Login and token flows (per source). */
    authorize: { limit: 60, windowMs: minute },
    token: { limit: 300, windowMs: minute },
    login: { limit: 20, windowMs: minute },
    default: { limit: 600, windowMs: minute },
  } as Record<string, { limit: number; windowMs: number } | false>,
};

const isLoopbackHost = (h: string) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';

const issuerSchema = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must use https (http only for localhost/127.0.0.1/[::1])' });
  }
  if (url.search || url.hash || value.includes('#') || value.includes('?')) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment (RFC 8414 §2)' });
  }
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain userinfo' });
  return canonicalIssuer(url);
});

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `must be a ${what}` });
const rateLimit = z.union([
  z.literal(false),
  z.object({ limit: z.number().int().positive(), windowMs: z.number().int().positive() }).strict(),
]);

/** zod schema for {@link AuthorizationServerOptions}. */
export const optionsSchema = z
  .object({
    /** The issuer identifier: `https://host` or `https://host/path`. Every endpoint lives under it. */
    issuer: issuerSchema,
    /** Storage (default: a new in-memory store). Give stores you create the same `clock`. */
    store: z
      .custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).take === 'function', {
        message: 'must implement the Store contract',
      })
      .optional(),
    /** Time source (default: wall clock). */
    clock: z
      .custom<Clock>((v) => typeof (v as Clock)?.now === 'function', { message: 'must have now()' })
      .optional(),
    /** Random tokens and ids (default: crypto.getRandomValues). */
    ids: z
      .custom<IdGenerator>((v) => typeof (v as IdGenerator)?.token === 'function', {
        message: 'must have token()',
      })
      .optional(),
    /** Structured logger (default: warn/error as JSON lines on stderr). Never receives secrets. */
    logger: z
      .custom<Logger>((v) => typeof (v as Logger)?.error === 'function', { message: 'must be a Logger' })
      .optional(),
    /** Receives every audit event. */
    onAudit: fn<AuditListener>('function').optional(),
    /** Protected resources (RFC 9728 / RFC 8707 audiences) this server issues tokens for; see `resources.ts`. */
    resources: resourceListSchema,
    /** Scopes the server supports (default: every resource's scopes). */
    scopes: z.array(scopeToken).optional(),
    /** Largest request body accepted, in bytes. */
    maxBodyBytes: z.number().int().positive().default(defaults.maxBodyBytes),
    metadataMaxAgeSeconds: z.number().int().nonnegative().default(defaults.metadataMaxAgeSeconds),
    /** Trust this many proxies' `X-Forwarded-For` entries for rate-limit sources. */
    trustProxyHops: z.number().int().nonnegative().default(defaults.trustProxyHops),
    /** Overrides how a request's rate-limit source is computed. */
    rateLimitSource: fn<(request: Request, info: RequestInfo | undefined) => string>('function').optional(),
    /** Per-bucket limits merged over the defaults; `false` disables a bucket. */
    rateLimits: z.record(z.string(), rateLimit).default({}),
    /** CORS for metadata, registration, token, revocation and JWKS. */
    cors: z
      .object({
        origins: z
          .union([z.literal('*'), z.array(z.string()), fn<(origin: string) => boolean>('function')])
          .default('*'),
        allowHeaders: z.array(z.string()).optional(),
        maxAgeSeconds: z.number().int().nonnegative().optional(),
      })
      .strict()
      .prefault({}),
    registration: z
      .object({
        enabled: z.boolean().default(defaults.registration.enabled),
        /** Require `Authorization: Bearer <token>` on `POST /register` (RFC 7591 §3). */
        initialAccessToken: z.union([z.string().min(16), z.array(z.string().min(16)).min(1)]).optional(),
        /** Exact redirect URIs (strings) or patterns (RegExp) clients may register. */
        redirectUriAllowList: z.array(z.union([z.string(), z.instanceof(RegExp)])).optional(),
        clientTtlMs: z.number().int().positive().nullable().default(defaults.registration.clientTtlMs),
        unusedClientTtlMs: z
          .number()
          .int()
          .positive()
          .nullable()
          .default(defaults.registration.unusedClientTtlMs),
        /** Extra say over which grants a client may use. */
        grantPolicy: fn<GrantPolicy>('function').optional(),
        /** Most live dynamic clients; registrations beyond are refused (503 `temporarily_unavailable`). */
        maxClients: z.number().int().positive().default(defaults.registration.maxClients),
      })
      .strict()
      .prefault({}),
    /** Reap expired dynamic clients this often (ms, on the server's clock); `0` = never. */
    clientReapIntervalMs: z.number().int().nonnegative().default(defaults.clientReapIntervalMs),
    /** Pre-registered clients. */
    staticClients: z
      .array(
        z.custom<StaticClientConfig>(
          (v) =>
            typeof v === 'object' &&
            v !== null &&
            typeof (v as StaticClientConfig).client_id === 'string' &&
            (v as StaticClientConfig).client_id.length > 0 &&
            ((v as StaticClientConfig).redirect_uris === undefined ||
              Array.isArray((v as StaticClientConfig).redirect_uris)),
          { message: 'needs a client_id (and redirect_uris as an array when given)' },
        ),
      )
      .default([]),
    /** Client ID Metadata Documents. */
    cimd: z
      .object({
        enabled: z.boolean().default(defaults.cimd.enabled),
        allowLoopback: z.boolean().default(defaults.cimd.allowLoopback),
        allowPrivate: z.boolean().default(defaults.cimd.allowPrivate),
        timeoutMs: z.number().int().positive().default(defaults.cimd.timeoutMs),
        maxBytes: z.number().int().positive().default(defaults.cimd.maxBytes),
        cacheMaxMs: z.number().int().nonnegative().default(defaults.cimd.cacheMaxMs),
        cacheDefaultMs: z.number().int().nonnegative().default(defaults.cimd.cacheDefaultMs),
        /** Most documents cached at once (beyond: fetched, not cached). */
        cacheMaxEntries: z.number().int().positive().default(defaults.cimd.cacheMaxEntries),
        resolver: fn<DnsResolver>('function').optional(),
      })
      .strict()
      .prefault({}),
    /** Login, consent, tokens, ForwardAuth: see `endpoints/flow-options.ts` (`flowDefaults`). */
    ...flowOptionsShape,
    /** Machine clients and enterprise IdPs: see `grants/options.ts` (`machineDefaults`). */
    ...machineOptionsShape,
    /** Workload identity federation (jwt-bearer with workload JWTs): see `grants/workload-options.ts`. */
    workloadIssuers: workloadIssuersSchema,
    /** Sender-constrained tokens: see `dpop/options.ts` (`dpopDefaults`). */
    ...dpopOptionsShape,
  })
  .strict();

/** Options for {@link createAuthorizationServer}; see {@link defaults} for every default. */
export type AuthorizationServerOptions = z.input<typeof optionsSchema>;

/** Options after validation, with defaults applied. */
export type ResolvedOptions = z.output<typeof optionsSchema> & {
  scopes: string[];
  /** `scopes` less those only resources with `advertise: false` use: what the metadata lists. */
  advertisedScopes: string[];
  rateLimits: Record<string, { limit: number; windowMs: number } | false>;
};

/** Thrown by {@link parseOptions} when options are invalid; the message names each bad field. */
export class OptionsError extends TypeError {
  override readonly name = 'OptionsError';
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(message);
  }
}

/** Validates options and applies defaults. */
export function parseOptions(input: unknown): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new OptionsError(
      `invalid authorization server options:\n${z.prettifyError(parsed.error)}`,
      parsed.error.issues,
    );
  }
  const o = parsed.data;
  requireRateLimitSourceWithoutPeer(o.rateLimitSource, o.trustProxyHops, {
    ...defaults.rateLimits,
    ...o.rateLimits,
  });
  return {
    ...o,
    ...resourceState(o.resources, o.scopes),
    rateLimits: { ...defaults.rateLimits, ...o.rateLimits },
  };
}

/**
 * Validates a resource list given at runtime (`server.resources.set`), with
 * the rules of the `resources` option.
 *
 * @throws OptionsError naming each bad field.
 */
export function parseResources(input: unknown): z.output<typeof resourceListSchema> {
  const parsed = resourceListSchema.safeParse(input);
  if (!parsed.success) {
    throw new OptionsError(`invalid resources:\n${z.prettifyError(parsed.error)}`, parsed.error.issues);
  }
  return parsed.data;
}

/**
 * On a runtime without a peer address (Workers) every request would share
 * the `unknown` rate-limit bucket, so one client could lock out all others:
 * fail at construction unless `rateLimitSource` (or trusted proxy hops) says
 * where the client address comes from, or every limit is off.
 */
function requireRateLimitSourceWithoutPeer(
  source: unknown,
  trustProxyHops: number,
  limits: Record<string, unknown>,
): void {
  const runtime = runtimeWithoutPeerAddress();
  if (!runtime || source || trustProxyHops > 0 || Object.values(limits).every((l) => l === false)) return;
  const message =
    `rateLimitSource is required on ${runtime}: requests carry no client address, so every client would ` +
    `share one rate-limit bucket. Pass e.g. rateLimitSource: (req) => req.headers.get('cf-connecting-ip') ?? 'unknown'.`;
  throw new OptionsError(`invalid authorization server options:\n${message}`, [
    { code: 'custom', path: ['rateLimitSource'], message, input: undefined },
  ]);
}
