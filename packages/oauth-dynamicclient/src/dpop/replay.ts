import { epochSeconds, systemClock, type Clock } from '../clock.js';

/**
 * One-time use of proof `jti`s: `firstUse(issuer, jti, exp)` records the id
 * until `exp` (seconds) and answers `false` for a second presentation. The
 * authorization server uses its store (`tokens/jti-replay.ts`, shared by
 * every instance); a resource server in another process uses
 * {@link MemoryReplayCache}.
 */
export interface ReplayCache {
  firstUse(issuer: string, jti: string, exp: number): Promise<boolean>;
}

/**
 * A bounded in-memory {@link ReplayCache} for one process. Every entry lives
 * for the same window, so insertion order is expiry order: expired entries
 * are dropped from the head on each insertion (per request: amortised O(1)).
 * When `maxEntries` unexpired proofs are held, new proofs are refused
 * (`false`) rather than an old entry forgotten, which would reopen a replay.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: { clock?: Clock; maxEntries?: number } = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** How many proofs are remembered right now. */
  get size(): number {
    return this.seen.size;
  }

  async firstUse(issuer: string, jti: string, exp: number): Promise<boolean> {
    const now = epochSeconds(this.clock.now());
    for (const [key, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(key);
    }
    const key = `${issuer}\u0000${jti}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.maxEntries) return false;
    this.seen.set(key, exp);
    return true;
  }
}
