/** What {@link RecentOwners} remembers of one session: its owner and when its binding was last written. */
export interface RecentOwner {
  sub: string;
  /** The binding's `at` (last use written to the store). */
  at: number;
}

/** Session ids longer than this are not remembered (each entry's memory stays small). */
const MAX_ID_LENGTH = 256;

/**
 * A bounded in-process memory of recent "this session is `sub`'s" answers of
 * the store, so a session in use costs one store read per `ttlMs`, not one per
 * request. At most `max` sessions, least recently used dropped first; each
 * answer is trusted for `ttlMs` after it was read. Only positive answers are
 * kept (an unknown id costs a store read every time, so random ids cannot
 * fill it), keyed by the session id itself (no digest per hit).
 */
export class RecentOwners {
  private readonly entries = new Map<string, RecentOwner & { until: number }>();

  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}

  /** Sessions remembered (expired ones included until looked up or pushed out). */
  get size(): number {
    return this.entries.size;
  }

  /** What is remembered of `sessionId` at `now`, if it was read less than `ttlMs` ago. */
  get(sessionId: string, now: number): RecentOwner | undefined {
    const e = this.entries.get(sessionId);
    if (!e) return undefined;
    this.entries.delete(sessionId);
    if (e.until <= now) return undefined;
    this.entries.set(sessionId, e);
    return e;
  }

  /** Remembers `owner` of `sessionId`, read from the store at `now`. */
  set(sessionId: string, owner: RecentOwner, now: number): void {
    if (this.max <= 0 || sessionId.length > MAX_ID_LENGTH) return;
    this.entries.delete(sessionId);
    this.entries.set(sessionId, { sub: owner.sub, at: owner.at, until: now + this.ttlMs });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets `sessionId` (ended or forgotten here: takes effect at once on this instance). */
  delete(sessionId: string): void {
    this.entries.delete(sessionId);
  }
}
