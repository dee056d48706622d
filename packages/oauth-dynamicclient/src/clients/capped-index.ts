import type { Clock } from '../clock.js';
import type { Store } from '../store/types.js';

/** What a {@link CappedIndex} needs besides the store. */
export interface CappedIndexOptions {
  /** The store set that lists the members. */
  key: string;
  /** Most live members (the cap). */
  max: number;
  clock: Clock;
  /**
   * Drops the members whose entries are gone (expired or deleted) from the
   * set; run when the cap is reached, at most once per `pruneEveryMs` per
   * process, so a caller at the cap cannot make every request scan the set.
   */
  prune: () => Promise<unknown>;
  /** Default 60 s. */
  pruneEveryMs?: number;
}

/**
 * An overall bound on store entries anyone can create (dynamic clients,
 * cached metadata documents): each entry's id is a member of one store set,
 * and a new member is admitted only while the set holds at most `max`.
 * Members whose entries expired are pruned before a refusal, so only live
 * entries count. Add-then-count keeps concurrent callers (several instances
 * on one store) from overshooting: a caller that finds the set over the cap
 * takes its member out again.
 */
export class CappedIndex {
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly options: CappedIndexOptions,
  ) {}

  /**
   * Adds `member` when there is room; `false` (and `member` out of the set)
   * when the cap is reached. Write the member's entry first, so a prune
   * running meanwhile sees it live; delete it again on `false`.
   */
  async admit(member: string): Promise<boolean> {
    const { key, max } = this.options;
    await this.store.addToSet(key, member);
    if ((await this.store.members(key)).length <= max) return true;
    const now = this.options.clock.now();
    if (now - this.lastPrune >= (this.options.pruneEveryMs ?? 60_000)) {
      this.lastPrune = now;
      await this.options.prune();
      if ((await this.store.members(key)).length <= max) return true;
    }
    await this.store.removeFromSet(key, member);
    return false;
  }
}
