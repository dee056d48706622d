import { z } from 'zod';
import type { Logger } from './log.js';

/** A source of time in milliseconds; injectable so tests move time instead of sleeping. */
export interface Clock {
  now(): number;
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
  /** Longest a JSON-RPC request may wait for its answer, in ms; `0` disables. Default 0. */
  requestTimeoutMs?: number;
  /** Most concurrent sessions (children, warm pool included). Default 100. */
  maxSessions?: number;
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
  /** Binds sessions to an identity: a header name to read it from, or a resolver. */
  identity?: string | IdentityResolver;
  /** Largest POST body, in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Longest child stdout line, in bytes. Default 32 MiB. */
  maxLineBytes?: number;
  /** Resumability store per session; `false` disables event ids and replay. */
  eventStore?: { maxEvents?: number; maxBytes?: number } | false;
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
  /** Seconds in `Retry-After` when the bridge is full. Default 5. */
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
  requestTimeoutMs: 0,
  maxSessions: 100,
  poolSize: 0,
  jsonResponse: false,
  allowedOrigins: [] as string[],
  maxBodyBytes: 4 * 1024 * 1024,
  maxLineBytes: 32 * 1024 * 1024,
  eventStore: { maxEvents: 1000, maxBytes: 4 * 1024 * 1024 },
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
  maxSessions: positiveInt.optional(),
  poolSize: nonNegativeInt.optional(),
  maxBodyBytes: positiveInt.optional(),
  maxLineBytes: positiveInt.optional(),
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
});
