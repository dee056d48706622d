import ipaddr from 'ipaddr.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';
import type { RequestInfo } from '@mcp-gateway/internal/fetch-handler';
import { rateLimited } from './errors.js';

/** One limit: at most `limit` requests per `windowMs` per source. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export type { RequestInfo } from '@mcp-gateway/internal/fetch-handler';

/**
 * The source a rate limit counts against: the client IP (from
 * `X-Forwarded-For` when `trustProxyHops` > 0, else the peer address). IPv6
 * addresses count per /64, since one host usually holds a whole /64.
 */
export function rateLimitSource(
  request: Request,
  info: RequestInfo | undefined,
  trustProxyHops: number,
): string {
  let addr = info?.remoteAddress;
  if (trustProxyHops > 0) {
    const chain = (request.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const candidate = chain[chain.length - trustProxyHops] ?? chain[0];
    if (candidate) addr = candidate;
  }
  if (!addr) return 'unknown';
  try {
    const ip = ipaddr.process(addr);
    if (ip.kind() === 'ipv6') {
      const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
      return `${parts.join(':')}::/64`;
    }
    return ip.toString();
  } catch {
    return 'unknown';
  }
}

/**
 * A fixed-window limiter on {@link Store.increment}. Counting in the store
 * means every instance sharing the store shares the limit.
 *
 * Why not `rate-limiter-flexible`: its stores talk to Redis/Memcached
 * clients directly and would bypass our `Store`, so gateways plugging in
 * their own Keyv backend would lose limiting; a fixed window on one atomic
 * counter is all we need.
 */
export class FixedWindowLimiter {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one request from `source` against `bucket`.
   *
   * @throws OAuthError 429 `rate_limited` with `Retry-After` when over the limit.
   */
  async consume(bucket: string, source: string, limit: RateLimit): Promise<void> {
    const now = this.clock.now();
    const window = Math.floor(now / limit.windowMs);
    const count = await this.store.increment(`rl:${bucket}:${source}:${window}`, limit.windowMs);
    if (count > limit.limit) {
      const resetAt = (window + 1) * limit.windowMs;
      throw rateLimited((resetAt - now) / 1000);
    }
  }
}
