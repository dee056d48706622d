import { z } from 'zod';
import type { Logger } from './log.js';

/** A source of time in milliseconds; injectable so tests move time instead of sleeping. */
export interface Clock {
  now(): number;
  /**
   * Optional, for tests: runs `fn` every `ms` of this clock's time and returns a function that
   * stops it (the session sweep runs on it, so a test that moves the clock sweeps at once).
   * Clocks without it sweep on a wall-clock interval.
   */
  every?(ms: number, fn: () => void): () => void;
}

/** The request headers an {@link IdentityResolver} can read (a web `Headers` is one). */
export interface RequestHeaders {
  get(name: string): string | null;
}

/**
 * Works out who is calling; a session only answers the identity that opened
 * it. Receives the request's headers on both the fetch and the node:http
 * path (a web `Request` satisfies the parameter type).
 */
export type IdentityResolver = (request: {
  headers: RequestHeaders;
}) => string | undefined | Promise<string | undefined>;

/**
 * MCP 2026-07-28 stateless requests (no session id): each is served by an
 * already-initialized child of the caller's own pool. See the README,
 * "Protocol versions".
 */
export interface ModernOptions {
  /** Most children serving 2026 requests, all users together. Default 20. */
  maxChildren?: number;
  /**
   * Most children of one user. A child runs one request at a time, or up to `maxSharedPerChild`
   * shareable ones (requests whose client declares none of `elicitation`, `sampling`, `roots` and
   * asks for no log level); beyond, requests queue. Default 2.
   */
  maxChildrenPerUser?: number;
  /** Most shareable requests one child runs at once (`1`: a child runs one request at a time). Default 8. */
  maxSharedPerChild?: number;
  /**
   * Most requests of one user waiting for one of its busy children (first
   * come, first served); beyond, 429 with `Retry-After`. `0`: 429 at once. Default 16.
   */
  maxQueuedPerUser?: number;
  /** How long a queued request waits for a child before 429, in ms. Default 30 s. */
  queueTimeoutMs?: number;
  /** An idle 2026 child is ended after this long, in ms. Default 5 min. */
  idleTimeoutMs?: number;
  /**
   * HMAC key of MRTR `requestState` (at least 32 bytes). Give every instance
   * the same key so a retry can land on any of them. Default: random per process.
   */
  requestStateKey?: string | Uint8Array;
  /** How long a `requestState` stays valid, in ms. Default 10 min. */
  requestStateTtlMs?: number;
  /** `ttlMs` caching hint on lists and `server/discover` (`cacheScope` is always `private`). Default 0. */
  listTtlMs?: number;
  /** Most open `subscriptions/listen` streams, all users together. Default 200. */
  maxListeners?: number;
  /** Most open `subscriptions/listen` streams of one user (429 beyond). Default 4. */
  maxListenersPerUser?: number;
}

/** Options of {@link createStdioBridge}. Only `command` is required. */
export interface StdioBridgeOptions {
  /** Executable of the stdio MCP server, started once per session. */
  command: string;
  /** Its arguments. */
  args?: string[];
  /** Environment of every child. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Working directory of every child. Default: this process's. */
  cwd?: string;
  /** URL path of the MCP endpoint. Default `/mcp`. */
  path?: string;
  /** Idle time after which a session (and its child) is ended, in ms. Default 30 min. */
  sessionTimeoutMs?: number;
  /**
   * Deadline of every JSON-RPC request to a child, in ms; `0` disables. At the
   * deadline the client gets error `-32001` and the child `notifications/cancelled`.
   * A `notifications/progress` for the request's progress token moves the
   * deadline to this long after the progress, up to `maxRequestTimeoutMs`
   * after the request. Default 60 s.
   */
  requestTimeoutMs?: number;
  /**
   * Longest total wait of a request whose deadline progress keeps extending, in
   * ms (never less than `requestTimeoutMs`). Default 10 min.
   */
  maxRequestTimeoutMs?: number;
  /**
   * A session whose child has not answered `initialize` with a result this long
   * after it opened is ended (its child killed, its slot freed), in ms. Default 30 s.
   */
  initializeTimeoutMs?: number;
  /** Most concurrent sessions (children, warm pool included). Default 100. */
  maxSessions?: number;
  /**
   * Most concurrent sessions of one user; `0` disables. The user is the
   * session's `identity` (a configured header a trusted proxy sets, or a
   * resolver); sessions without one are bound by `maxSessions` only (an
   * address is not a user: behind a proxy or NAT many share one). At the cap
   * the user's least recently used idle session (no request in flight before
   * its deadline) is ended; when none is idle the new session is refused with
   * 429 and `Retry-After`. Default 5.
   */
  maxSessionsPerUser?: number;
  /**
   * Most requests of one 2025 session waiting for its child at once. Beyond, a request is refused
   * with 429 (JSON-RPC `-32000`, the request's id), and a batch that would pass the cap is refused
   * whole: nothing of it reaches the child. Default 256.
   */
  maxInFlightPerSession?: number;
  /** Children kept pre-spawned so a session opens without a process start. Default 0. */
  poolSize?: number;
  /** Answer requests with `application/json` instead of SSE. Default false. */
  jsonResponse?: boolean;
  /**
   * Origins allowed in the `Origin` header besides the request's own host;
   * `'*'` allows any. Requests without `Origin` (non-browser clients) pass. Default [].
   */
  allowedOrigins?: string[];
  /**
   * DNS-rebinding protection: `'loopback'` accepts only a loopback `Host`
   * (localhost, 127.0.0.0/8, [::1]); a list accepts those host names (port
   * ignored); `undefined` checks nothing. {@link serveNode} and the CLI set
   * `'loopback'` when bound to a loopback address.
   */
  allowedHosts?: 'loopback' | string[];
  /** Request header → child environment variable, read when a session opens. */
  envFromHeaders?: Record<string, string>;
  /** MCP 2026-07-28 stateless requests beside 2025 sessions; `false` answers them as 2025 traffic. */
  modern?: ModernOptions | false;
  /** Binds sessions to an identity: a header name to read it from, or a resolver. */
  identity?: string | IdentityResolver;
  /** Largest POST body, in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Longest child stdout line, in bytes. Default 32 MiB. */
  maxLineBytes?: number;
  /** Resumability store per session; `false` disables event ids and replay. */
  eventStore?: { maxEvents?: number; maxBytes?: number } | false;
  /**
   * Most bytes an SSE stream of a session holds for a client that stops reading (waiting to be
   * written, node's buffer included). Beyond, the stream is cut and its queue freed; the client
   * can reconnect, and resume with `Last-Event-ID` where the session stores events. Also bounds
   * the bytes of messages held for the next GET stream while none is open. Default 8 MiB.
   */
  maxStreamQueueBytes?: number;
  /** Reconnection delay sent in priming events (`retry:`), in ms. Default 1000. */
  retryMs?: number;
  /** Interval of SSE keep-alive comments on idle streams, in ms. Default 25 s. */
  keepAliveMs?: number;
  /** SIGTERM → SIGKILL grace when ending a child, in ms. Default 2000. */
  killGraceMs?: number;
  /** Per-child resource limits through `prlimit` (ignored where it is missing). */
  limits?: { memoryBytes?: number; cpuSeconds?: number };
  /** How often sessions are checked for idleness and timeouts, in ms. Default 1000. */
  sweepIntervalMs?: number;
  /** Seconds in `Retry-After` when the bridge (503) or a user's share of it (429) is full. Default 5. */
  retryAfterSeconds?: number;
  /** Where log events go. Default: JSON lines on stderr at `logLevel`. */
  logger?: Logger;
  /** Level of the default logger. Default `info`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Time source. Default `Date.now`. */
  clock?: Clock;
  /** Session id generator. Default 128 random bits as hex. */
  generateSessionId?: () => string;
}

/** Defaults of {@link StdioBridgeOptions}, in one place. */
export const DEFAULTS = {
  path: '/mcp',
  sessionTimeoutMs: 30 * 60_000,
  requestTimeoutMs: 60_000,
  maxRequestTimeoutMs: 10 * 60_000,
  initializeTimeoutMs: 30_000,
  maxSessions: 100,
  maxSessionsPerUser: 5,
  maxInFlightPerSession: 256,
  poolSize: 0,
  jsonResponse: false,
  allowedOrigins: [] as string[],
  maxBodyBytes: 4 * 1024 * 1024,
  maxLineBytes: 32 * 1024 * 1024,
  eventStore: { maxEvents: 1000, maxBytes: 4 * 1024 * 1024 },
  maxStreamQueueBytes: 8 * 1024 * 1024,
  retryMs: 1000,
  keepAliveMs: 25_000,
  killGraceMs: 2000,
  sweepIntervalMs: 1000,
  retryAfterSeconds: 5,
  logLevel: 'info',
} as const;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);

/** Validates options at the edge; the rest of the bridge trusts them. */
export const optionsSchema = z.object({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  path: z.string().startsWith('/').optional(),
  sessionTimeoutMs: positiveInt.optional(),
  requestTimeoutMs: nonNegativeInt.optional(),
  maxRequestTimeoutMs: positiveInt.optional(),
  initializeTimeoutMs: positiveInt.optional(),
  maxSessions: positiveInt.optional(),
  maxSessionsPerUser: nonNegativeInt.optional(),
  maxInFlightPerSession: positiveInt.optional(),
  poolSize: nonNegativeInt.optional(),
  maxBodyBytes: positiveInt.optional(),
  maxLineBytes: positiveInt.optional(),
  maxStreamQueueBytes: positiveInt.optional(),
  retryMs: nonNegativeInt.optional(),
  keepAliveMs: positiveInt.optional(),
  killGraceMs: nonNegativeInt.optional(),
  sweepIntervalMs: positiveInt.optional(),
  retryAfterSeconds: positiveInt.optional(),
  allowedOrigins: z.array(z.string()).optional(),
  allowedHosts: z.union([z.literal('loopback'), z.array(z.string())]).optional(),
  envFromHeaders: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .optional(),
  eventStore: z
    .union([
      z.literal(false),
      z.object({ maxEvents: positiveInt.optional(), maxBytes: positiveInt.optional() }),
    ])
    .optional(),
  limits: z.object({ memoryBytes: positiveInt.optional(), cpuSeconds: positiveInt.optional() }).optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
  modern: z
    .union([
      z.literal(false),
      z.object({
        maxChildren: positiveInt.optional(),
        maxChildrenPerUser: positiveInt.optional(),
        maxSharedPerChild: positiveInt.optional(),
        maxQueuedPerUser: nonNegativeInt.optional(),
        queueTimeoutMs: positiveInt.optional(),
        idleTimeoutMs: positiveInt.optional(),
        requestStateKey: z
          .union([z.string().min(32), z.instanceof(Uint8Array).refine((k) => k.byteLength >= 32)])
          .optional(),
        requestStateTtlMs: positiveInt.optional(),
        listTtlMs: nonNegativeInt.optional(),
        maxListeners: positiveInt.optional(),
        maxListenersPerUser: positiveInt.optional(),
      }),
    ])
    .optional(),
});
