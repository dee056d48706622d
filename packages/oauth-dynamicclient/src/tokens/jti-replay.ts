import { epochSeconds, type Clock } from '../clock.js';
import { sha256 } from '../dpop/proof-key.js';
import type { Store } from '../store/types.js';

/**
 * One-time use of JWT ids (RFC 7523 §3 item 7) for client assertions and
 * ID-JAGs. Each seen `jti` is a store counter that lives until the JWT's
 * `exp` (plus the allowed skew), so the store holds at most the JWTs that
 * are still valid; only JWTs whose signature verified are recorded. The
 * counter is atomic, so concurrent presentations across instances sharing
 * a store admit exactly one.
 */
export class JtiReplayGuard {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly skewSeconds: number,
  ) {}

  /**
   * Records `jti` of `issuer`'s JWT that expires at `exp` (seconds).
   *
   * @returns `true` the first time, `false` for a replay.
   */
  async firstUse(issuer: string, jti: string, exp: number): Promise<boolean> {
    const ttlMs = Math.max(1, exp + this.skewSeconds - epochSeconds(this.clock.now())) * 1000;
    const key = `jti:${sha256(`${issuer}\u0000${jti}`)}`;
    return (await this.store.increment(key, ttlMs)) === 1;
  }
}
