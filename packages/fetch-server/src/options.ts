import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { Connector } from './fetcher/connect.js';
import type { Logger } from './log.js';
import type { Resolver } from './ssrf/resolver.js';
import { DEFAULT_USER_AGENT } from './version.js';

const positiveInt = z.number().int().positive();
const fn = <T>(name: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `${name} must be a function` });

/**
 * Options of {@link createFetchServer} (and of the CLI, which maps flags and
 * environment variables onto them). Every field is optional; defaults are in
 * {@link FETCH_SERVER_DEFAULTS}.
 */
export interface FetchServerOptions {
  /** `User-Agent` sent with every request, robots.txt included. Default names the project and its URL. */
  userAgent?: string;
  /** Skip robots.txt checks. Default `false`. */
  ignoreRobotsTxt?: boolean;
  /**
   * SSRF exceptions: host names (`intranet.example`, `*.corp.example`) or IPs
   * / CIDRs (`127.0.0.1`, `10.0.0.0/8`, `::1`). Default: none.
   */
  allowHosts?: string[];
  /** Response body cap in bytes, after decompression. Default 10 MiB. */
  maxBytes?: number;
  /** Total time for one fetch (all redirects, headers and body), ms. Default 30 000. */
  timeoutMs?: number;
  /** Time for a TCP + TLS handshake, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time for fetching one robots.txt, ms. Default 5 000. */
  robotsTimeoutMs?: number;
  /** Redirects followed, each re-checked. Default 5. */
  maxRedirects?: number;
  /**
   * Outgoing fetches in flight at most, over all callers (each may hold a
   * socket and up to `maxBytes` for up to `timeoutMs`). A fetch beyond it is
   * refused at once with an `isError` tool result; nothing queues. Default 64.
   */
  maxConcurrentFetches?: number;
  /**
   * Outgoing fetches in flight at most for one caller, refused like
   * `maxConcurrentFetches` beyond it. The caller is the identity the host
   * passes with the request (`handler(request, { caller })`, as the gateway
   * does with its authenticated user); without one, the MCP server instance:
   * a 2025 session (stateful), one HTTP request (stateless 2025 or
   * 2026-07-28, a batch included), or the stdio connection. Default 4.
   */
  maxConcurrentFetchesPerCaller?: number;
  /**
   * Time one HTML page's conversion to Markdown may take, ms. Conversion runs in a worker thread;
   * past this the worker is terminated (a fresh one takes the next page) and the tool returns an
   * `isError` result (`timeout`) suggesting `raw: true`. Default 10 000.
   */
  conversionTimeoutMs?: number;
  /** Worker threads converting HTML at most (started on demand). Default `min(2, availableParallelism())`. */
  conversionWorkers?: number;
  /**
   * HTML conversions waiting for a free worker at most; one more is refused at once with an
   * `isError` result (`busy`). Default 32.
   */
  maxQueuedConversions?: number;
  /**
   * HTTP proxy URL (`http://user:pass@proxy:3128`). Every request is tunnelled
   * with `CONNECT` **to the checked IP address**, so the proxy cannot
   * re-resolve the host and pinning holds. Default: none (direct).
   */
  proxy?: string;
  /** Extra trusted CA certificates (PEM), added to Node's root store. Default: none. */
  ca?: string[];
  /** Host name resolver. Default: `dns.promises.lookup(host, { all: true })`. */
  resolver?: Resolver;
  /** Opens the socket to a checked address. Default: direct TCP/TLS, or via `proxy`. */
  connect?: Connector;
  /** Clock in ms since the epoch (robots.txt cache, session expiry). Default `Date.now`. */
  now?: () => number;
  /** Structured logger. Default: JSON lines on stderr. */
  logger?: Logger;
  /**
   * Told when the `fetch` tool starts its outgoing request, with the MCP
   * request's `params._meta` (where a caller such as a gateway puts a W3C
   * `traceparent`, SEP-414) and the URL asked for; the function it returns,
   * if any, is called once when that fetch ends. For tracing: keep it cheap.
   * Default: none.
   */
  observeFetch?: FetchObserver;

  /** Path the MCP endpoint answers on. Default `/mcp`. */
  path?: string;
  /**
   * Keep 2025-era sessions (`Mcp-Session-Id`) instead of a fresh server per
   * request. 2026-07-28 requests have no sessions and are always stateless.
   * Default `false`.
   */
  stateful?: boolean;
  /** Session id generator for stateful mode. Default `crypto.randomUUID`. */
  sessionIdGenerator?: () => string;
  /** Idle sessions are dropped after this many ms (stateful mode). Default 30 min. */
  sessionIdleMs?: number;
  /** Concurrent sessions at most (stateful mode). Default 1000. */
  maxSessions?: number;
  /**
   * `Host` header names accepted (port ignored), or `'any'`. Default:
   * `localhost`, `127.0.0.1`, `[::1]` — a DNS-rebinding guard for a server on loopback.
   */
  allowedHosts?: string[] | 'any';
  /**
   * `Origin` header values accepted when one is sent, or `'any'`. Default:
   * origins whose host name is in `allowedHosts`.
   */
  allowedOrigins?: string[] | 'any';
  /** MCP request body cap in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Answer POSTs with plain JSON instead of an SSE stream. Default `true`. */
  jsonResponse?: boolean;
}

/** See {@link FetchServerOptions.observeFetch}. */
export type FetchObserver = (
  meta: Readonly<Record<string, unknown>> | undefined,
  url: string,
) => ((outcome: { status?: number; error?: string }) => void) | undefined;

/** The defaults, in one place. */
export const FETCH_SERVER_DEFAULTS = {
  userAgent: DEFAULT_USER_AGENT,
  ignoreRobotsTxt: false,
  allowHosts: [] as string[],
  maxBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  robotsTimeoutMs: 5_000,
  maxRedirects: 5,
  maxConcurrentFetches: 64,
  maxConcurrentFetchesPerCaller: 4,
  conversionTimeoutMs: 10_000,
  conversionWorkers: Math.min(2, availableParallelism()),
  maxQueuedConversions: 32,
  path: '/mcp',
  stateful: false,
  sessionIdleMs: 30 * 60 * 1000,
  maxSessions: 1000,
  allowedHosts: ['localhost', '127.0.0.1', '[::1]'] as string[] | 'any',
  maxBodyBytes: 1024 * 1024,
  jsonResponse: true,
} as const;

/** Validates options from library callers; the CLI builds the same object from flags. */
export const fetchServerOptionsSchema = z.object({
  userAgent: z.string().min(1).max(512).optional(),
  ignoreRobotsTxt: z.boolean().optional(),
  allowHosts: z.array(z.string()).optional(),
  maxBytes: positiveInt.optional(),
  timeoutMs: positiveInt.optional(),
  connectTimeoutMs: positiveInt.optional(),
  robotsTimeoutMs: positiveInt.optional(),
  maxRedirects: z.number().int().min(0).max(20).optional(),
  maxConcurrentFetches: positiveInt.optional(),
  maxConcurrentFetchesPerCaller: positiveInt.optional(),
  conversionTimeoutMs: positiveInt.optional(),
  conversionWorkers: positiveInt.optional(),
  maxQueuedConversions: z.number().int().min(0).optional(),
  proxy: z
    .string()
    .refine((s) => URL.canParse(s) && new URL(s).protocol === 'http:', 'proxy must be an http:// URL')
    .optional(),
  ca: z
    .array(
      z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'ca entries must be PEM certificates' }),
    )
    .optional(),
  resolver: fn<Resolver>('resolver').optional(),
  connect: fn<Connector>('connect').optional(),
  now: fn<() => number>('now').optional(),
  observeFetch: fn<FetchObserver>('observeFetch').optional(),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null, 'logger must be an object').optional(),
  path: z.string().startsWith('/').optional(),
  stateful: z.boolean().optional(),
  sessionIdGenerator: fn<() => string>('sessionIdGenerator').optional(),
  sessionIdleMs: positiveInt.optional(),
  maxSessions: positiveInt.optional(),
  allowedHosts: z.union([z.literal('any'), z.array(z.string().min(1))]).optional(),
  allowedOrigins: z.union([z.literal('any'), z.array(z.string().min(1))]).optional(),
  maxBodyBytes: positiveInt.optional(),
  jsonResponse: z.boolean().optional(),
});

/**
 * Checks options and explains the first problem.
 *
 * @throws {TypeError} naming the offending option.
 */
export function validateOptions(options: FetchServerOptions): FetchServerOptions {
  const parsed = fetchServerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`Invalid fetch-server option ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return options;
}
