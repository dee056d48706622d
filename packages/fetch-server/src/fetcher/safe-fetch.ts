import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FetchError } from '../errors.js';
import type { AllowList } from '../ssrf/allow-list.js';
import { resolvePinned, type PinnedTarget } from '../ssrf/pin.js';
import type { Resolver } from '../ssrf/resolver.js';
import { parseFetchUrl } from '../ssrf/url-policy.js';
import { readBodyCapped } from './body.js';
import { errorDetail, type Connector } from './connect.js';

/** Statuses whose `Location` is followed. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Everything the fetcher needs; built once from the server options. */
export interface SafeFetcherConfig {
  resolver: Resolver;
  allowList: AllowList;
  connect: Connector;
  userAgent: string;
  /** Default body cap in bytes. */
  maxBytes: number;
  /** Default total budget (all hops, headers and body) in ms. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Redirects followed before giving up. */
  maxRedirects: number;
}

/** Per-call overrides. */
export interface SafeFetchOptions {
  maxBytes?: number;
  /** Past `maxBytes`: fail with `too_large` (default) or keep the first `maxBytes` bytes. */
  overflow?: 'error' | 'truncate';
  timeoutMs?: number;
  signal?: AbortSignal;
  accept?: string;
  /** Called with every URL about to be requested (each redirect hop), e.g. for robots.txt. May throw. */
  beforeHop?: (url: URL) => Promise<void>;
}

/** A completed fetch (any status that is not a followed redirect). */
export interface SafeResponse {
  /** The URL that produced this response, after redirects. */
  url: URL;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Every URL requested, in order, the last one being `url`. */
  hops: URL[];
  /** The address connected to for the last hop. */
  address: string;
}

/** Fetches a URL with SSRF pinning, manual redirects, size cap and timeouts. */
export type SafeFetcher = (input: string | URL, options?: SafeFetchOptions) => Promise<SafeResponse>;

const DEFAULT_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5';

/**
 * Creates the one fetcher every network access goes through (pages and
 * robots.txt alike). Per hop: vet the URL (scheme, userinfo), resolve the
 * host once, check every address, connect to the checked one, and only then
 * send the request. Redirects are never followed automatically: each
 * `Location` goes through the same checks, up to `maxRedirects`.
 */
export function createSafeFetcher(config: SafeFetcherConfig): SafeFetcher {
  return async (input, options = {}) => {
    const timeoutMs = options.timeoutMs ?? config.timeoutMs;
    const maxBytes = options.maxBytes ?? config.maxBytes;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onCallerAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const signal = controller.signal;
    const hops: URL[] = [];
    let url = parseFetchUrl(input);
    let address: string | undefined;
    try {
      for (;;) {
        hops.push(url);
        await options.beforeHop?.(url);
        const target = await resolvePinned(url, config.resolver, config.allowList);
        address = target.address;
        if (signal.aborted) throw new FetchError('aborted', 'aborted');
        const { res, socket } = await requestHop(target, config, signal, options.accept ?? DEFAULT_ACCEPT);
        try {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (REDIRECTS.has(status) && location) {
            if (hops.length > config.maxRedirects) {
              throw new FetchError(
                'too_many_redirects',
                `Too many redirects fetching ${hops[0]!.href} (more than ${config.maxRedirects})`,
              );
            }
            url = parseFetchUrl(location, url);
            continue;
          }
          const body = await readBodyCapped(res, maxBytes, url, options.overflow ?? 'error');
          return { url, status, headers: res.headers, body, hops, address: target.address };
        } finally {
          // One socket per hop, never reused: close it (and any tunnel under it) now.
          res.destroy();
          socket?.destroy();
        }
      }
    } catch (err) {
      if (timedOut) {
        throw new FetchError(
          'timeout',
          `Timed out after ${timeoutMs} ms fetching ${hops[0]?.href ?? String(input)}`,
          {
            cause: err,
          },
        );
      }
      if (err instanceof FetchError) throw err;
      if (signal.aborted) throw new FetchError('aborted', 'The fetch was cancelled', { cause: err });
      throw new FetchError(
        'connect_failed',
        `Fetching ${url.origin} failed: ${errorDetail(err, address) || 'network error'}`,
        { cause: err, address },
      );
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  };
}

/** Sends one GET over a socket opened by the connector to the pinned address. */
function requestHop(
  target: PinnedTarget,
  config: SafeFetcherConfig,
  signal: AbortSignal,
  accept: string,
): Promise<{ res: IncomingMessage; socket: Socket | undefined }> {
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    const req = http.request({
      method: 'GET',
      path: `${target.url.pathname}${target.url.search}`,
      headers: {
        host: target.url.host,
        'user-agent': config.userAgent,
        accept,
        'accept-encoding': 'gzip, deflate, br',
        connection: 'close',
      },
      signal,
      createConnection: (_opts, cb) => {
        config.connect(target, { connectTimeoutMs: config.connectTimeoutMs, signal }).then(
          (s) => {
            socket = s;
            cb(null, s);
          },
          (err: Error) => cb(err, undefined as never),
        );
        return undefined;
      },
    });
    req.once('response', (res) => resolve({ res, socket }));
    req.once('error', (err) => {
      socket?.destroy();
      reject(err);
    });
    req.end();
  });
}
