/**
 * The storage contract every piece of server state goes through. Values are
 * JSON-compatible (they are serialised as JSON). Expiry follows the server's
 * {@link Clock}, so tests can move time; backends also get the TTL so they
 * can drop expired data on their own.
 *
 * Implementations throw `StoreUnavailableError` when the backend cannot
 * be reached (and should do so within a bounded time): the server answers
 * `503 temporarily_unavailable` then, never `500`.
 */
export interface Store {
  /** The value under `key`, or `undefined` when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` under `key`, expiring after `ttlMs` when given. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  /** Removes `key`; `true` when something was removed. */
  delete(key: string): Promise<boolean>;
  /**
   * Atomically reads and removes `key`: of any number of concurrent callers,
   * at most one gets the value (single-use codes, refresh-token rotation).
   */
  take<T>(key: string): Promise<T | undefined>;
  /**
   * Atomically adds 1 to the counter under `key` and returns the new value.
   * The counter expires `ttlMs` after it was created (fixed window); later
   * increments do not extend it. Store-backed rate limits use this, so they
   * hold across instances sharing a store.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Atomically stores `value` under `key` (without expiry) only when the
   * current value is `expected`: JSON-equal to it (same text, so pass a value
   * as read with {@link get}), or absent or expired when `expected` is
   * `undefined`. Of concurrent swaps from one value at most one succeeds.
   * Records that several processes change one at a time (a local user) use it.
   *
   * @returns whether `value` was stored.
   */
  compareAndSet(key: string, expected: unknown, value: unknown): Promise<boolean>;
  /** Adds `member` to the set under `key` (used for indexes such as "all clients"). */
  addToSet(key: string, member: string): Promise<void>;
  /** Removes `member` from the set under `key`. */
  removeFromSet(key: string, member: string): Promise<void>;
  /** Every member of the set under `key` (empty when absent). */
  members(key: string): Promise<string[]>;
  /**
   * Optional: how many members the set under `key` has (0 when absent),
   * without reading them (Redis `SCARD`). The capped indexes (dynamic
   * clients, cached metadata documents, the gateway's session bindings)
   * count with it on every admission; a store without it is counted with
   * {@link members}, which reads the whole set.
   */
  setSize?(key: string): Promise<number>;
  /** Releases connections. The store is unusable afterwards. */
  close(): Promise<void>;
  /**
   * Optional cheap reachability check (Redis `PING`). Resolves when the
   * backend answers; throws `StoreUnavailableError` otherwise. Stores
   * without it are probed with a `get`.
   */
  ping?(): Promise<void>;
}

/** Stored form: the value plus its absolute expiry on the server's clock. */
export interface Envelope {
  v: unknown;
  /** Expiry in ms since the epoch; absent = never. */
  e?: number;
}
