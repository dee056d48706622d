import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';

/**
 * Revoked access tokens (by `jti`) and revoked token families (every token
 * descended from one authorization code, by family id). Entries live in the
 * store until the tokens they cover would have expired anyway.
 */
export class RevocationList {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Revokes one access token until its `exp` (seconds). */
  async revokeToken(jti: string, expSeconds: number): Promise<void> {
    const ttl = expSeconds * 1000 - this.clock.now();
    if (ttl > 0) await this.store.set(`revoked:jti:${jti}`, 1, ttl + 60_000);
  }

  /** Revokes every token of a family for `ttlMs` (the longest any of them can live). */
  async revokeFamily(familyId: string, ttlMs: number): Promise<void> {
    await this.store.set(`revoked:fam:${familyId}`, 1, ttlMs);
  }

  /** Whether the family has been revoked. */
  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.store.get(`revoked:fam:${familyId}`)) !== undefined;
  }

  /** Whether the token or its family has been revoked: two lookups, in parallel. */
  async isRevoked(jti: string, familyId: string | undefined): Promise<boolean> {
    const [t, f] = await Promise.all([
      this.store.get(`revoked:jti:${jti}`),
      familyId === undefined ? undefined : this.store.get(`revoked:fam:${familyId}`),
    ]);
    return t !== undefined || f !== undefined;
  }
}
