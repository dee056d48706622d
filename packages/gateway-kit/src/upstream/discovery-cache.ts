/** How long a discovery is used before the upstream is asked again, unless its documents say less. */
export const DISCOVERY_LIFETIME_MS = 3600_000;
/** The least time between two discoveries of one upstream, whatever asks for them (expiry, doubts, failures). */
export const REDISCOVERY_INTERVAL_MS = 30_000;

/** When the cache asks again. */
export interface DiscoveryCacheOptions {
  /** The clock (ms since the epoch). */
  now: () => number;
  /** How long a discovery is used at most (default {@link DISCOVERY_LIFETIME_MS}). */
  lifetimeMs?: number | undefined;
  /** The least time between the starts of two discoveries (default {@link REDISCOVERY_INTERVAL_MS}). */
  minIntervalMs?: number | undefined;
}

/** One discovery's result, and how long its documents may be kept (`Cache-Control: max-age`, when they said). */
export interface Discovery<T> {
  value: T;
  maxAgeMs?: number | undefined;
}

/**
 * One upstream's discovery, kept for a bounded time: `load` runs again once the result is
 * {@link DiscoveryCacheOptions.lifetimeMs} old (or its documents' shorter `max-age`), or
 * earlier when a caller {@link invalidate}s it. Concurrent callers share one discovery in flight,
 * and discoveries start at most once per {@link DiscoveryCacheOptions.minIntervalMs}, failures
 * included: within it, the last result is given again (the last good one while it has none
 * newer, else the last failure). A failed rediscovery keeps the previous result in use.
 */
export class DiscoveryCache<T> {
  private current: { value: T; expiresAt: number } | undefined;
  /** The last discovery's failure (given again while no new one may start). */
  private failure: Error | undefined;
  private inFlight: Promise<T> | undefined;
  private startedAt = -Infinity;
  private readonly lifetimeMs: number;
  private readonly minIntervalMs: number;

  constructor(
    private readonly load: () => Promise<Discovery<T>>,
    private readonly o: DiscoveryCacheOptions,
  ) {
    this.minIntervalMs = o.minIntervalMs ?? REDISCOVERY_INTERVAL_MS;
    this.lifetimeMs = Math.max(this.minIntervalMs, o.lifetimeMs ?? DISCOVERY_LIFETIME_MS);
  }

  /** The result in use, discovering first when it is missing or due and the interval allows. */
  get(): Promise<T> {
    if (this.inFlight) return this.inFlight;
    const now = this.o.now();
    if (this.current && now < this.current.expiresAt) return Promise.resolve(this.current.value);
    if (now - this.startedAt < this.minIntervalMs)
      return this.current
        ? Promise.resolve(this.current.value)
        : Promise.reject(this.failure ?? new Error('upstream discovery failed'));
    this.startedAt = now;
    const run = this.load().then(
      ({ value, maxAgeMs }) => {
        const lifetime = Math.min(this.lifetimeMs, Math.max(this.minIntervalMs, maxAgeMs ?? Infinity));
        this.current = { value, expiresAt: this.o.now() + lifetime };
        return value;
      },
      (err: unknown) => {
        this.failure = err instanceof Error ? err : new Error(String(err));
        if (this.current) return this.current.value;
        throw err;
      },
    );
    this.inFlight = run;
    const settled = () => {
      if (this.inFlight === run) this.inFlight = undefined;
    };
    run.then(settled, settled);
    return run;
  }

  /** The result in use without discovering (`undefined`: none yet). */
  peek(): T | undefined {
    return this.current?.value;
  }

  /** The result in use is doubtful: the next {@link get} discovers again (once the interval allows). */
  invalidate(): void {
    if (this.current) this.current.expiresAt = -Infinity;
  }
}
