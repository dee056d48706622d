import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** The store file cannot be used (corrupt, unreadable). */
export class FileStoreError extends Error {
  override readonly name = 'FileStoreError';
  readonly code = 'store_unavailable';
}

/** Milliseconds since the epoch; injectable so tests move time. */
export interface FileStoreClock {
  now(): number;
}

export interface FileKeyvAdapterOptions {
  /** The JSON file holding every entry. Its folder is created (mode 0700). */
  file: string;
  /** Clock for TTLs (default: wall clock). */
  clock?: FileStoreClock;
  /**
   * How often (ms) to look whether another process (e.g. `mcp-gateway users add`)
   * rewrote the file, and reload it. Default 500.
   */
  reloadCheckMs?: number;
  /**
   * Keys kept in memory only, never written to the file: short-lived
   * counters (rate limits) that would otherwise rewrite the whole file on
   * every counted request. They do not survive a restart.
   */
  memoryOnly?: (key: string) => boolean;
}

interface FileShape {
  version: 1;
  /** key → [value, expiresAt or null] */
  entries: Record<string, [unknown, number | null]>;
}

/**
 * A Keyv storage adapter that keeps every entry in memory and persists them to
 * one JSON file, written atomically (temp file, fsync, rename) after each
 * change; concurrent changes share one write. TTLs are honoured on read and
 * expired entries are dropped on load and on write. Pure JavaScript, no
 * native modules. Meant for ONE gateway process per file (the embedded
 * default); several instances share the Redis store instead.
 */
export class FileKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: FileKeyvAdapterOptions;
  namespace?: string;
  private readonly file: string;
  private readonly clock: FileStoreClock;
  private entries = new Map<string, [unknown, number | null]>();
  /** Entries of {@link FileKeyvAdapterOptions.memoryOnly} keys; expired ones are swept as new ones come. */
  private readonly volatile = new Map<string, [unknown, number | null]>();
  private volatileSets = 0;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private lastMtimeMs = 0;
  private lastSize = -1;
  private lastCheck = 0;

  constructor(opts: FileKeyvAdapterOptions) {
    super();
    this.opts = opts;
    this.file = path.resolve(opts.file);
    this.clock = opts.clock ?? { now: () => Date.now() };
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    this.loadSync();
  }

  private loadSync(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const s = statSync(this.file);
    this.lastMtimeMs = s.mtimeMs;
    this.lastSize = s.size;
    let doc: FileShape;
    try {
      doc = JSON.parse(text) as FileShape;
    } catch (err) {
      throw new FileStoreError(`store file ${this.file} is not valid JSON (${(err as Error).message})`);
    }
    const now = this.clock.now();
    this.entries = new Map(
      Object.entries(doc.entries ?? {}).filter(([, [, exp]]) => exp === null || exp > now),
    );
  }

  /**
   * Reloads the file when another process changed it since we last wrote or
   * read it. Reads look at most every `reloadCheckMs`; writes always look
   * first, so they do not overwrite another process's recent change.
   * `undefined` (synchronously) when there is nothing to look at: reads are
   * on every request's path (revocation checks), so they skip the promise.
   */
  private refresh(beforeWrite = false): Promise<void> | undefined {
    const now = Date.now();
    if (this.writing) return undefined;
    if (!beforeWrite && now - this.lastCheck < (this.opts.reloadCheckMs ?? 500)) return undefined;
    this.lastCheck = now;
    return stat(this.file).then(
      (s) => {
        try {
          if (s.mtimeMs !== this.lastMtimeMs || s.size !== this.lastSize) this.loadSync();
        } catch {
          // unreadable now (e.g. mid-rewrite by another process): keep what we have
        }
      },
      () => {
        // no file yet
      },
    );
  }

  private live(key: string): [unknown, number | null] | undefined {
    const map = this.opts.memoryOnly?.(key) ? this.volatile : this.entries;
    const e = map.get(key);
    if (!e) return undefined;
    if (e[1] !== null && e[1] <= this.clock.now()) {
      map.delete(key);
      return undefined;
    }
    return e;
  }

  /** Stores a memory-only entry; every 256 of them, drops the expired ones. */
  private setVolatile(key: string, entry: [unknown, number | null]): void {
    this.volatile.set(key, entry);
    if (++this.volatileSets % 256 !== 0) return;
    const now = this.clock.now();
    for (const [k, [, exp]] of this.volatile) if (exp !== null && exp <= now) this.volatile.delete(k);
  }

  /** Runs `read` after a due reload check, or at once (one resolved promise) when none is due. */
  private afterRefresh<T>(read: () => T): Promise<T> {
    const pending = this.refresh();
    if (!pending) {
      try {
        return Promise.resolve(read());
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return pending.then(read);
  }

  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.afterRefresh(() => this.live(key)?.[0] as StoredData<Value> | undefined);
  }

  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return this.afterRefresh(() => keys.map((k) => this.live(k)?.[0] as StoredData<Value | undefined>));
  }

  has(key: string): Promise<boolean> {
    return this.afterRefresh(() => this.live(key) !== undefined);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? this.clock.now() + ttl : null;
    if (this.opts.memoryOnly?.(key)) {
      this.setVolatile(key, [value, expires]);
      return true;
    }
    await this.refresh(true);
    this.entries.set(key, [value, expires]);
    await this.flush();
    return true;
  }

  async delete(key: string): Promise<boolean> {
    if (this.opts.memoryOnly?.(key)) return this.volatile.delete(key);
    await this.refresh(true);
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    if (existed) await this.flush();
    return existed;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    let any = false;
    for (const k of keys) any = (await this.delete(k)) || any;
    return any;
  }

  async clear(): Promise<void> {
    if (this.namespace) {
      for (const map of [this.entries, this.volatile])
        for (const k of [...map.keys()]) if (k.startsWith(`${this.namespace}:`)) map.delete(k);
    } else {
      this.entries.clear();
      this.volatile.clear();
    }
    await this.flush();
  }

  async disconnect(): Promise<void> {
    await this.writing;
  }

  /** Number of live entries (for tests and `/metrics`). */
  get size(): number {
    const now = this.clock.now();
    let n = 0;
    for (const map of [this.entries, this.volatile])
      for (const [, exp] of map.values()) if (exp === null || exp > now) n++;
    return n;
  }

  /** Persists the entries; resolves once a write that includes every change so far is on disk. */
  private flush(): Promise<void> {
    this.dirty = true;
    if (!this.writing) {
      this.writing = this.writeLoop().finally(() => {
        this.writing = undefined;
      });
      return this.writing;
    }
    // A write is under way; it loops until clean, so this change is included.
    return this.writing;
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const now = this.clock.now();
      const doc: FileShape = { version: 1, entries: {} };
      for (const [k, e] of this.entries) if (e[1] === null || e[1] > now) doc.entries[k] = e;
      const tmp = `${this.file}.${process.pid}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(doc));
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await rename(tmp, this.file);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        this.emit('error', err);
        throw err;
      }
      const s = await stat(this.file);
      this.lastMtimeMs = s.mtimeMs;
      this.lastSize = s.size;
    }
  }
}
