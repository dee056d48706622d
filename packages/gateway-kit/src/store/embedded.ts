import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  storeUnavailable,
  StoreUnavailableError,
  systemClock,
  type Clock,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';
import { open, type Database, type RootDatabase } from 'lmdb';

/** Stored form of one entry: the value and its absolute expiry on the store's clock. */
interface Entry {
  v: unknown;
  /** Expiry in ms since the epoch; absent = never. */
  e?: number;
}

export interface EmbeddedStoreOptions {
  /**
   * The database file (LMDB; a `-lock` file sits beside it). Its folder is
   * created with mode 0700 and the files with 0600.
   */
  path: string;
  /** Clock used for expiry (default: wall clock). */
  clock?: Clock;
  /** How often expired entries are swept, in ms of the clock (default 1000). */
  sweepIntervalMs?: number;
  /** At most this many expired entries are removed per sweep (default 500). */
  sweepBatch?: number;
  /**
   * When a write counts as done.
   * - `commit` (default): once committed. It is then in the operating
   *   system's page cache, visible to every process, and survives this
   *   process being killed at any moment (SIGKILL, OOM, a crash); the OS
   *   writes it to disk within seconds. A power cut or kernel crash can lose
   *   the last seconds of writes and can leave the file damaged (LMDB without
   *   fsync), as Redis without `appendfsync always` loses its last second.
   * - `flush`: once fsynced to disk, also across a power cut. Each commit
   *   waits for the disk: on a busy disk several times slower.
   */
  durability?: 'flush' | 'commit';
}

/**
 * Keys and set members longer than this (in UTF-8 bytes) are stored under
 * their SHA-256 (LMDB keys are at most 1978 bytes; a set's row key is the
 * set's key and the member's, each at most this long or a hash).
 */
const LONG_KEY = 900;
/**
 * Separates a set's key from a member in the `sets` table (store keys never
 * contain it). Not a control character of 4 or below: lmdb's key encoding
 * escapes those only in strings under 64 characters, so ranges over them
 * would not hold for longer rows.
 */
const SEP = '\u001f';
/** The character after {@link SEP}: the end of a set's range. */
const SEP_END = '\u0020';

/**
 * The map's size, fixed: the most the database can hold before LMDB must grow the map (the file
 * itself grows only as pages are used; on 32-bit systems lmdb-js maps it in chunks). Left to
 * lmdb-js, the map starts at 128 KiB and is grown while the gateway runs. (Fixing it did not stop
 * lost commits when several processes wrote at once: that is why one process writes, see below.)
 */
const MAP_SIZE = 8 * 1024 ** 3;

/** A database failure as {@link StoreUnavailableError} (503), keeping one already of that kind. */
function unavailable(err: unknown): StoreUnavailableError {
  return storeUnavailable(err, 'embedded');
}

/**
 * The default {@link Store}: an embedded LMDB database in the data dir. Each
 * write touches only its own pages (a B-tree), so its cost does not grow with
 * the number of stored entries, and concurrent writes share one commit.
 *
 * - Crash-safe: LMDB never overwrites live pages; a process killed mid-write
 *   leaves the last committed state, and a write resolves once committed
 *   (or flushed to disk: {@link EmbeddedStoreOptions.durability}).
 * - One writing process: `take`, `increment`, `delete`, `compareAndSet` and the set
 *   operations are transactions. Do not write one file from several processes at once:
 *   through lmdb-js 3.5 that loses a committed write now and then (4 processes writing
 *   at once lost one in about 1 run of 20). A running gateway serves its store on a
 *   socket instead (`serveStore`), and `mcp-gateway users add` and the other admin
 *   commands go through it (`SocketStore`); on Linux also when `<path>.sock` is longer
 *   than a unix socket path may be (reached through `/proc/self/fd`, `socket-address.ts`).
 * - Sets are one row per member (`addToSet` is O(log n), not a rewrite of the list);
 *   `setSize` reads a count kept in memory once this process has changed the set.
 * - Expiry follows the clock on every read; an index by expiry time lets a
 *   timer (unref'd) remove expired rows in batches of `sweepBatch`.
 */
export class EmbeddedStore implements Store {
  readonly path: string;
  private readonly root: RootDatabase;
  private readonly entries: Database<Entry, string>;
  /** `<set key>\0<member or its hash>` → the member. */
  private readonly sets: Database<string, string>;
  /** `[expiresAt, key]` → true: what the sweep walks, oldest first. */
  private readonly expiry: Database<true, [number, string]>;
  /**
   * The number of members of each set this process changed, kept by its set
   * transactions: this process alone writes the file while it has it open
   * (see the class notes), so the count stays exact without a row of its own
   * that a gateway of an earlier version, writing the file later, would leave
   * behind.
   */
  private readonly sizes = new Map<string, number>();
  private readonly clock: Clock;
  private readonly sweepBatch: number;
  private readonly flush: boolean;
  private readonly stopSweep: () => void;
  private sweeping: Promise<number> | undefined;
  private closed = false;

  constructor(options: EmbeddedStoreOptions) {
    this.path = path.resolve(options.path);
    this.clock = options.clock ?? systemClock;
    this.sweepBatch = options.sweepBatch ?? 500;
    this.flush = options.durability === 'flush';
    mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      // `commit`: LMDB does not fsync; each commit still reaches the OS at once (a killed process loses nothing).
      this.root = open({
        path: this.path,
        maxDbs: 4,
        mapSize: MAP_SIZE,
        ...(this.flush ? {} : { noSync: true }),
      });
      // LMDB creates its files with the umask's mode; state and secrets stay private.
      for (const file of [this.path, `${this.path}-lock`]) if (existsSync(file)) chmodSync(file, 0o600);
      this.entries = this.root.openDB<Entry, string>('entries', { encoding: 'json' });
      this.sets = this.root.openDB<string, string>('sets', { encoding: 'json' });
      this.expiry = this.root.openDB<true, [number, string]>('expiry', { encoding: 'json' });
    } catch (err) {
      throw unavailable(err);
    }
    const every = this.clock.every?.bind(this.clock) ?? unrefEvery;
    this.stopSweep = every(options.sweepIntervalMs ?? 1000, () => {
      // The timer never queues behind a sweep in progress.
      if (!this.sweeping) void this.sweep().catch(() => undefined);
    });
  }

  /** The stored key for `key` (long keys by hash). */
  private static k(key: string): string {
    return Buffer.byteLength(key) > LONG_KEY
      ? `#sha256:${createHash('sha256').update(key).digest('base64url')}`
      : key;
  }

  private live(k: string, now = this.clock.now()): Entry | undefined {
    const entry = this.entries.get(k);
    if (entry === undefined || (entry.e !== undefined && entry.e <= now)) return undefined;
    return entry;
  }

  /** Writes `entry` under `k` in the current transaction, indexing its expiry. */
  private put(k: string, entry: Entry): void {
    void this.entries.put(k, entry);
    if (entry.e !== undefined) void this.expiry.put([entry.e, k], true);
  }

  /** Resolves once the write that `committed` stands for is durable as configured. */
  private async done<T>(committed: Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('storage unavailable (embedded store closed)');
    try {
      const result = await committed;
      if (this.flush) await this.root.flushed;
      return result;
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Runs `fn` in one write transaction (atomic across processes). */
  private tx<T>(fn: () => T): Promise<T> {
    if (this.closed)
      return Promise.reject(new StoreUnavailableError('storage unavailable (embedded store closed)'));
    return this.done(this.root.transaction(fn));
  }

  get<T>(key: string): Promise<T | undefined> {
    try {
      return Promise.resolve(this.live(EmbeddedStore.k(key))?.v as T | undefined);
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    const entry: Entry = ttlMs === undefined ? { v: value } : { v: value, e: this.clock.now() + ttlMs };
    const k = EmbeddedStore.k(key);
    // Both rows are queued in this event turn, so they commit in one transaction.
    return this.tx(() => this.put(k, entry));
  }

  delete(key: string): Promise<boolean> {
    const k = EmbeddedStore.k(key);
    return this.tx(() => {
      const existed = this.live(k) !== undefined;
      if (this.entries.get(k) !== undefined) void this.entries.remove(k);
      return existed;
    });
  }

  take<T>(key: string): Promise<T | undefined> {
    const k = EmbeddedStore.k(key);
    return this.tx(() => {
      const entry = this.live(k);
      if (this.entries.get(k) !== undefined) void this.entries.remove(k);
      return entry?.v as T | undefined;
    });
  }

  increment(key: string, ttlMs: number): Promise<number> {
    const k = EmbeddedStore.k(key);
    return this.tx(() => {
      const now = this.clock.now();
      const entry = this.live(k, now);
      const count = (typeof entry?.v === 'number' ? entry.v : 0) + 1;
      // Fixed window: the expiry is set by the increment that creates the counter.
      if (entry?.e !== undefined) void this.entries.put(k, { v: count, e: entry.e });
      else this.put(k, { v: count, e: now + ttlMs });
      return count;
    });
  }

  compareAndSet(key: string, expected: unknown, value: unknown): Promise<boolean> {
    const k = EmbeddedStore.k(key);
    const want = expected === undefined ? undefined : JSON.stringify(expected);
    return this.tx(() => {
      const entry = this.live(k);
      if ((entry === undefined ? undefined : JSON.stringify(entry.v)) !== want) return false;
      this.put(k, { v: value });
      return true;
    });
  }

  /**
   * Moves a set stored as one array value (a `store.json` imported from the
   * file store) into one row per member. Runs inside a write transaction.
   */
  private adoptLegacySet(k: string): void {
    const legacy = this.entries.get(k);
    if (legacy === undefined || !Array.isArray(legacy.v)) return;
    this.sizes.delete(k);
    for (const m of legacy.v) if (typeof m === 'string') void this.sets.put(EmbeddedStore.row(k, m), m);
    void this.entries.remove(k);
  }

  /** The `sets` row of `member` in the set stored under `k`. */
  private static row(k: string, member: string): string {
    return `${k}${SEP}${EmbeddedStore.k(member)}`;
  }

  addToSet(key: string, member: string): Promise<void> {
    return this.changeSet(key, member, true);
  }

  removeFromSet(key: string, member: string): Promise<void> {
    return this.changeSet(key, member, false);
  }

  /** Adds (`add`) or removes `member` in one transaction, keeping the set's {@link sizes} entry. */
  private changeSet(key: string, member: string, add: boolean): Promise<void> {
    const k = EmbeddedStore.k(key);
    return this.tx(() => {
      this.adoptLegacySet(k);
      const row = EmbeddedStore.row(k, member);
      if ((this.sets.get(row) === undefined) !== add) return;
      const size = this.sizes.get(k) ?? this.countRows(k);
      if (add) void this.sets.put(row, member);
      else void this.sets.remove(row);
      this.sizes.set(k, size + (add ? 1 : -1));
    }).catch((err: unknown) => {
      // Not committed: counted again from the rows by the next change.
      this.sizes.delete(k);
      throw err;
    });
  }

  /** The number of `sets` rows of the set stored under `k` (counted by LMDB, values not read). */
  private countRows(k: string): number {
    return this.sets.getCount({ start: `${k}${SEP}`, end: `${k}${SEP_END}` });
  }

  /**
   * How many members the set has: the count this process keeps once it has
   * changed the set; before, LMDB counts its rows (without reading them).
   */
  setSize(key: string): Promise<number> {
    try {
      const k = EmbeddedStore.k(key);
      const legacy = this.entries.get(k);
      if (legacy !== undefined && Array.isArray(legacy.v)) return this.members(key).then((m) => m.length);
      return Promise.resolve(this.sizes.get(k) ?? this.countRows(k));
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
  }

  members(key: string): Promise<string[]> {
    try {
      const k = EmbeddedStore.k(key);
      const out = new Set<string>();
      for (const { value } of this.sets.getRange({ start: `${k}${SEP}`, end: `${k}${SEP_END}` }))
        out.add(value);
      // A set imported from store.json, until its first change:
      const legacy = this.entries.get(k);
      if (legacy !== undefined && Array.isArray(legacy.v)) for (const m of legacy.v) out.add(String(m));
      return Promise.resolve([...out]);
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
  }

  /**
   * Removes up to `sweepBatch` entries whose expiry has passed; returns how
   * many index rows it handled. The timer calls it; tests may too.
   */
  sweep(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    // A call during a sweep runs its own batch after it (the count is then this batch's, not the other's).
    const next = (this.sweeping ?? Promise.resolve(0)).catch(() => 0).then(() => this.sweepBatchNow());
    this.sweeping = next;
    void next
      .finally(() => {
        if (this.sweeping === next) this.sweeping = undefined;
      })
      .catch(() => undefined);
    return next;
  }

  /** One batch of {@link sweep}. */
  private sweepBatchNow(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.tx(() => {
      const now = this.clock.now();
      const due: Array<[number, string]> = [];
      for (const row of this.expiry.getKeys({ start: [0, ''], end: [now + 1], limit: this.sweepBatch })) {
        due.push(row);
      }
      for (const row of due) {
        void this.expiry.remove(row);
        const entry = this.entries.get(row[1]);
        // The key may have been rewritten since with another expiry (or none): keep it then.
        if (entry?.e === row[0]) void this.entries.remove(row[1]);
      }
      return due.length;
    });
  }

  /** Number of rows in the entries table (live or expired-but-not-swept), for tests and benchmarks. */
  get size(): number {
    return (this.entries.getStats() as { entryCount: number }).entryCount;
  }

  /** Rows for {@link putMany}: `expiresAt` is absolute, in ms on the store's clock. */
  private putRows(rows: Iterable<{ key: string; value: unknown; expiresAt?: number }>): void {
    for (const { key, value, expiresAt } of rows) {
      this.put(EmbeddedStore.k(key), expiresAt === undefined ? { v: value } : { v: value, e: expiresAt });
    }
  }

  /** Writes many entries in one transaction (benchmarks, bulk loads). */
  putMany(rows: Iterable<{ key: string; value: unknown; expiresAt?: number }>): Promise<void> {
    return this.tx(() => this.putRows(rows));
  }

  /**
   * {@link putMany}, committed and flushed before it returns (the
   * `store.json` import, which runs before the gateway serves anything).
   * With `unlessKey`, nothing is written when that key exists, checked in
   * the same transaction (so of two processes importing at once, one does).
   *
   * @returns whether the rows were written.
   */
  putManySync(
    rows: Iterable<{ key: string; value: unknown; expiresAt?: number }>,
    unlessKey?: string,
  ): boolean {
    try {
      return this.root.transactionSync(() => {
        if (unlessKey !== undefined && this.live(EmbeddedStore.k(unlessKey)) !== undefined) return false;
        this.putRows(rows);
        return true;
      });
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** {@link get}, synchronously (startup code). */
  getSync<T>(key: string): T | undefined {
    return this.live(EmbeddedStore.k(key))?.v as T | undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopSweep();
    await this.sweeping?.catch(() => undefined);
    this.closed = true;
    await this.root.close();
  }
}

/** A wall-clock interval that does not keep the process alive. */
function unrefEvery(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
}
