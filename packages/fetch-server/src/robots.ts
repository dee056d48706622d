import robotsParserModule from 'robots-parser';
import { FetchError } from './errors.js';
import type { SafeFetcher } from './fetcher/safe-fetch.js';

type ParseRobots = (url: string, contents: string) => Robot;
/** The parsed rules robots-parser returns. */
interface Robot {
  isAllowed(url: string, ua?: string): boolean | undefined;
}
// robots-parser is CommonJS (`module.exports = fn`) but its typings declare a
// default export; take whichever shape the loader hands us.
const loaded: unknown = robotsParserModule;
const robotsParser = (
  typeof loaded === 'function' ? loaded : (loaded as { default: ParseRobots }).default
) as ParseRobots;

/** What an origin's robots.txt lets us do. */
type Verdict =
  | { kind: 'rules'; robots: Robot; robotsUrl: string }
  | { kind: 'allow-all' }
  | { kind: 'disallow-all'; reason: string; robotsUrl: string };

interface Entry {
  verdict: Promise<Verdict>;
  expires: number;
}

/** Configuration of {@link RobotsPolicy}. */
export interface RobotsPolicyOptions {
  /** The fetcher robots.txt goes through: the same SSRF-safe one as pages. */
  fetcher: SafeFetcher;
  /** The User-Agent the server sends; its product token is matched against `User-agent:` lines. */
  userAgent: string;
  /** Timeout for fetching one robots.txt, ms. */
  timeoutMs: number;
  /** Clock, ms since the epoch (injectable for tests). */
  now: () => number;
  /** How long a fetched (2xx/4xx) robots.txt is trusted, ms. RFC 9309 §2.4: at most 24 h. */
  ttlMs?: number;
  /** How long a 5xx / unreachable result is remembered, ms. */
  errorTtlMs?: number;
  /** Origins remembered at most (oldest evicted first). */
  maxEntries?: number;
}

/** RFC 9309 §2.5: crawlers must parse at least 500 KiB. */
const ROBOTS_MAX_BYTES = 500 * 1024;

/** The product token RFC 9309 matches: the User-Agent up to the first `/` or space. */
export function productToken(userAgent: string): string {
  return (userAgent.trim().split(/[/\s]/)[0] ?? '').toLowerCase() || '*';
}

/**
 * robots.txt per RFC 9309 for the server's own User-Agent, fetched once per
 * origin and cached:
 * - 2xx: the rules apply (longest match, `Allow` wins ties; robots-parser);
 * - 4xx ("unavailable"): everything is allowed;
 * - 5xx, network errors, timeouts ("unreachable"): everything is disallowed;
 * - more than five redirects: treated as unavailable (allowed), §2.3.1.2.
 * A robots.txt whose own address is internal is refused the same way the
 * page would be (the SSRF error propagates).
 */
export class RobotsPolicy {
  private readonly cache = new Map<string, Entry>();
  private readonly token: string;
  private readonly ttlMs: number;
  private readonly errorTtlMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: RobotsPolicyOptions) {
    this.token = productToken(options.userAgent);
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.errorTtlMs = options.errorTtlMs ?? 60 * 1000;
    this.maxEntries = options.maxEntries ?? 1000;
  }

  /**
   * Resolves when the server may fetch `url`.
   *
   * @throws {FetchError} `robots_disallowed`, or the SSRF error for the robots.txt URL.
   */
  async check(url: URL): Promise<void> {
    const verdict = await this.verdictFor(url.origin);
    if (verdict.kind === 'allow-all') return;
    if (verdict.kind === 'disallow-all') {
      throw new FetchError(
        'robots_disallowed',
        `Fetching ${url.href} is not allowed: ${verdict.robotsUrl} ${verdict.reason}, so robots.txt rules treat the whole site as disallowed. ` +
          'The user can open the page themselves.',
      );
    }
    if (verdict.robots.isAllowed(url.href, this.token) === false) {
      throw new FetchError(
        'robots_disallowed',
        `Fetching ${url.href} is not allowed: ${verdict.robotsUrl} disallows it for user agent "${this.token}". ` +
          'The user can open the page themselves.',
      );
    }
  }

  private verdictFor(origin: string): Promise<Verdict> {
    const now = this.options.now();
    const hit = this.cache.get(origin);
    if (hit && hit.expires > now) return hit.verdict;
    this.cache.delete(origin);
    const loading = this.load(origin);
    // Until the outcome is known, concurrent checks share this fetch.
    const entry: Entry = { verdict: loading.then((r) => r.verdict), expires: Number.POSITIVE_INFINITY };
    loading.then(
      (r) => (entry.expires = now + r.ttlMs),
      () => this.cache.get(origin) === entry && this.cache.delete(origin),
    );
    this.cache.set(origin, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return entry.verdict;
  }

  private async load(origin: string): Promise<{ verdict: Verdict; ttlMs: number }> {
    const robotsUrl = `${origin}/robots.txt`;
    const unreachable = (reason: string) => ({
      verdict: { kind: 'disallow-all', reason, robotsUrl } as const,
      ttlMs: this.errorTtlMs,
    });
    const allowAll = { verdict: { kind: 'allow-all' } as const, ttlMs: this.ttlMs };
    let res;
    try {
      res = await this.options.fetcher(robotsUrl, {
        maxBytes: ROBOTS_MAX_BYTES,
        overflow: 'truncate',
        timeoutMs: this.options.timeoutMs,
        accept: 'text/plain,*/*;q=0.5',
      });
    } catch (err) {
      if (!(err instanceof FetchError)) return unreachable('could not be reached');
      // The robots.txt URL is the page's origin: an SSRF refusal is the page's refusal.
      if (err.code === 'blocked_address' || err.code === 'invalid_url') throw err;
      // RFC 9309 §2.3.1.2: more than five redirects may be treated as unavailable.
      if (err.code === 'too_many_redirects') return allowAll;
      return unreachable(err.code === 'timeout' ? 'timed out' : 'could not be reached');
    }
    if (res.status >= 200 && res.status < 300) {
      // Rules found after redirects still apply to the origin that was asked for.
      const robots = robotsParser(robotsUrl, res.body.toString('utf8'));
      return { verdict: { kind: 'rules', robots, robotsUrl }, ttlMs: this.ttlMs };
    }
    if (res.status >= 400 && res.status < 500) return allowAll;
    return unreachable(`answered HTTP ${res.status}`);
  }
}
