/**
 * An overall bound on store entries anyone can create: the authorization
 * server's dynamic clients and cached metadata documents, the gateway's
 * upstream session bindings. One implementation for all of them, here because
 * those packages import nothing of each other.
 */

/**
 * The store operations a {@link CappedIndex} uses: a slice of
 * oauth-dynamicclient's `Store` (structural: this package imports none).
 */
export interface CappedIndexStore {
  addToSet(key: string, member: string): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  /** The number of members, without reading them; a store without it is counted with `members`. */
  setSize?(key: string): Promise<number>;
}

/** How many members the set under `key` has: `setSize` when the store has it, else the length of `members`. */
export async function countMembers(store: CappedIndexStore, key: string): Promise<number> {
  return store.setSize ? store.setSize(key) : (await store.members(key)).length;
}

/** What a {@link CappedIndex} needs besides the store. */
export interface CappedIndexOptions {
  /** The store set that lists the members. */
  key: string;
  /** Most live members (the cap). */
  max: number;
  clock: { now(): number };
  /**
   * Takes the members whose entries are gone (expired or deleted) out of the
   * set, and is where the owner of the entries ends what it takes out (hooks
   * of a deleted client, an expired session's upstream end). Run when the
   * cap is reached, at most once per `pruneEveryMs` per index, so a caller at
   * the cap cannot make every request read the whole set.
   */
  prune: () => Promise<unknown>;
  /** Default 60 s. */
  pruneEveryMs?: number;
}

/**
 * Each entry's id is a member of one store set, and a new member is admitted
 * only while the set holds at most `max`. Members whose entries expired are
 * pruned before a refusal, so only live entries count. Add-then-count keeps
 * concurrent callers (several instances on one store) from overshooting: a
 * caller that finds the set over the cap takes its member out again.
 *
 * An admission under the cap costs an add and a count (`setSize`: `SCARD`
 * on Redis, O(1)); the whole set is read only by `prune`.
 */
export class CappedIndex {
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: CappedIndexStore,
    private readonly options: CappedIndexOptions,
  ) {}

  /** The number of members now, counting members whose entries are gone until a prune. */
  private size(): Promise<number> {
    return countMembers(this.store, this.options.key);
  }

  /**
   * Adds `member` when there is room; `false` (and `member` out of the set)
   * when the cap is reached. Write the member's entry first, so a prune
   * running meanwhile sees it live; delete it again on `false`.
   */
  async admit(member: string): Promise<boolean> {
    const { key, max } = this.options;
    await this.store.addToSet(key, member);
    if ((await this.size()) <= max) return true;
    const now = this.options.clock.now();
    if (now - this.lastPrune >= (this.options.pruneEveryMs ?? 60_000)) {
      this.lastPrune = now;
      await this.options.prune();
      if ((await this.size()) <= max) return true;
    }
    await this.store.removeFromSet(key, member);
    return false;
  }
}
