import { ConversionPool } from './content/convert-pool.js';
import { createConnector } from './fetcher/connect.js';
import { createSafeFetcher, type SafeFetcher } from './fetcher/safe-fetch.js';
import { FetchLimiter } from './limits.js';
import { jsonLogger, type Logger } from './log.js';
import {
  FETCH_SERVER_DEFAULTS,
  validateOptions,
  type FetchObserver,
  type FetchServerOptions,
} from './options.js';
import { RobotsPolicy } from './robots.js';
import { AllowList } from './ssrf/allow-list.js';
import { systemResolver } from './ssrf/resolver.js';

/** What the `fetch` tool needs, shared by every MCP session of one server. */
export interface FetchCore {
  fetcher: SafeFetcher;
  /** Absent when robots.txt is ignored. */
  robots: RobotsPolicy | undefined;
  logger: Logger;
  userAgent: string;
  /** Bounds on the tool's and prompt's fetches in flight, per caller and overall. */
  limiter: FetchLimiter;
  /** Told of each outgoing fetch of the tool (tracing), when given. */
  observeFetch?: FetchObserver | undefined;
  /** Converts fetched HTML to Markdown in worker threads, with a deadline per page. */
  converter: ConversionPool;
  /** Ends the conversion workers (the server's `close` calls it). Idle workers never keep the process alive. */
  close(): Promise<void>;
}

/** Builds the fetcher, robots.txt policy, conversion workers and logger from validated options. */
export function createFetchCore(options: FetchServerOptions = {}): FetchCore {
  validateOptions(options);
  const d = FETCH_SERVER_DEFAULTS;
  const userAgent = options.userAgent ?? d.userAgent;
  const fetcher = createSafeFetcher({
    resolver: options.resolver ?? systemResolver,
    allowList: new AllowList(options.allowHosts ?? d.allowHosts),
    connect:
      options.connect ??
      createConnector({ proxy: options.proxy ? new URL(options.proxy) : undefined, ca: options.ca }),
    userAgent,
    maxBytes: options.maxBytes ?? d.maxBytes,
    timeoutMs: options.timeoutMs ?? d.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs,
    maxRedirects: options.maxRedirects ?? d.maxRedirects,
  });
  const robots =
    (options.ignoreRobotsTxt ?? d.ignoreRobotsTxt)
      ? undefined
      : new RobotsPolicy({
          fetcher,
          userAgent,
          timeoutMs: options.robotsTimeoutMs ?? d.robotsTimeoutMs,
          now: options.now ?? Date.now,
        });
  const converter = new ConversionPool({
    workers: options.conversionWorkers ?? d.conversionWorkers,
    maxQueued: options.maxQueuedConversions ?? d.maxQueuedConversions,
    timeoutMs: options.conversionTimeoutMs ?? d.conversionTimeoutMs,
  });
  return {
    fetcher,
    robots,
    logger: options.logger ?? jsonLogger(),
    userAgent,
    limiter: new FetchLimiter(
      options.maxConcurrentFetches ?? d.maxConcurrentFetches,
      options.maxConcurrentFetchesPerCaller ?? d.maxConcurrentFetchesPerCaller,
    ),
    observeFetch: options.observeFetch,
    converter,
    close: () => converter.close(),
  };
}
