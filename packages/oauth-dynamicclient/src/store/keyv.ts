import Keyv from 'keyv';
import { systemClock, type Clock } from '../clock.js';
import { storeUnavailable, type StoreUnavailableError } from './errors.js';
import type { Envelope, Store } from './types.js';

/** A backend failure as {@link StoreUnavailableError} (one already of that kind is kept). */
const unavailable = (err: unknown): StoreUnavailableError => storeUnavailable(err);

/** Backend failures (a Keyv adapter that throws) become {@link StoreUnavailableError}. */
async function backend<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (err) {
    throw unavailable(err);
  }
}

/** The envelope in a raw stored string, or `undefined` for anything else. */
function parseEnvelope(raw: unknown): Envelope | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw) as Envelope;
  } catch {
    return undefined;
  }
}

/** Whether a stored envelope holds `expected` (JSON-equal; `undefined` = absent). */
function sameValue(env: Envelope | undefined, expected: unknown): boolean {
  if (expected === undefined) return env === undefined;
  return env !== undefined && JSON.stringify(env.v) === JSON.stringify(expected);
}

/** A per-key promise chain: serialises read-modify-write sequences inside one process. */
class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

export interface KeyvStoreOptions {
  /** Clock used for expiry (default: wall clock). */
  clock?: Clock;
  /**
   * Every this often (on the store's clock, checked on writes) keys written
   * with a TTL that have expired are deleted, so entries nobody reads again
   * (rate-limit windows, unused codes) do not pile up in memory. Default 60 s.
   */
  sweepIntervalMs?: number;
}

/**
 * A {@link Store} over any Keyv instance (in-memory, file-backed, sqlite…).
 * Sets `keyv.throwOnErrors`: backend failures become
 * {@link StoreUnavailableError} (the server answers 503) instead of
 * silently reading as missing keys.
 * `take`, `increment`, `compareAndSet` and the set operations are serialised with an
 * in-process lock, so they are atomic only while ONE process uses the
 * backend; for several instances use `RedisStore` (`@mcp-gateway/oauth-dynamicclient/redis`).
 */
export function keyvStore(
  keyv: Keyv,
  options: KeyvStoreOptions = {},
): Store & Required<Pick<Store, 'setSize'>> {
  // Keyv swallows backend errors by default (a failed read looks like a
  // missing key: an unknown client, a token that is not revoked). Make them
  // throw, so an outage becomes StoreUnavailableError (503) instead.
  keyv.throwOnErrors = true;
  const clock = options.clock ?? systemClock;
  const lock = new KeyedMutex();
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  /** Keys written with a TTL and when they expire: what the sweep looks at. */
  const expiries = new Map<string, number>();
  let lastSweep = clock.now();
  const sweep = (): void => {
    const now = clock.now();
    if (now - lastSweep < sweepIntervalMs) return;
    lastSweep = now;
    for (const [key, at] of expiries) {
      if (at > now) continue;
      expiries.delete(key);
      lock
        .run(key, async () => {
          // Re-check under the lock: the key may have been rewritten since.
          const env = await readRaw(key);
          if (env?.e !== undefined && env.e <= clock.now()) await backend(keyv.delete(key));
        })
        // Best effort: a backend that is down now is swept on a later write.
        .catch(() => expiries.set(key, at));
    }
  };

  const readRaw = async (key: string): Promise<Envelope | undefined> =>
    parseEnvelope(await backend(keyv.get<string>(key)));
  // Every verified request reads here (revocation checks): one promise step after Keyv's.
  const read = (key: string): Promise<Envelope | undefined> =>
    keyv.get<string>(key).then(
      (raw) => {
        const env = parseEnvelope(raw);
        if (env?.e !== undefined && env.e <= clock.now()) {
          return backend(keyv.delete(key)).then(() => undefined);
        }
        return env;
      },
      (err: unknown) => {
        throw unavailable(err);
      },
    );
  const write = async (key: string, env: Envelope): Promise<void> => {
    sweep();
    const ttl = env.e === undefined ? undefined : Math.max(1, env.e - clock.now());
    if (env.e === undefined) expiries.delete(key);
    else expiries.set(key, env.e);
    // Keyv's own expiry runs on the wall clock; give it the TTL so backends
    // drop stale data, while our envelope keeps the clock's view authoritative.
    await backend(keyv.set(key, JSON.stringify(env), ttl));
  };
  const envelope = (value: unknown, ttlMs?: number): Envelope =>
    ttlMs === undefined ? { v: value } : { v: value, e: clock.now() + ttlMs };

  return {
    get<T>(key: string) {
      return read(key).then((env) => env?.v as T | undefined);
    },
    set(key, value, ttlMs) {
      return lock.run(key, () => write(key, envelope(value, ttlMs)));
    },
    delete(key) {
      return lock.run(key, async () => (await read(key)) !== undefined && (await backend(keyv.delete(key))));
    },
    take<T>(key: string) {
      return lock.run(key, async () => {
        const env = await read(key);
        if (env === undefined) return undefined;
        await backend(keyv.delete(key));
        return env.v as T;
      });
    },
    increment(key, ttlMs) {
      return lock.run(key, async () => {
        const env = await read(key);
        const count = (typeof env?.v === 'number' ? env.v : 0) + 1;
        await write(key, { v: count, e: env?.e ?? clock.now() + ttlMs });
        return count;
      });
    },
    compareAndSet(key, expected, value) {
      return lock.run(key, async () => {
        const env = await read(key);
        if (!sameValue(env, expected)) return false;
        await write(key, { v: value });
        return true;
      });
    },
    addToSet(key, member) {
      return lock.run(key, async () => {
        const env = await read(key);
        const list = Array.isArray(env?.v) ? (env.v as string[]) : [];
        if (!list.includes(member)) await write(key, { v: [...list, member] });
      });
    },
    removeFromSet(key, member) {
      return lock.run(key, async () => {
        const env = await read(key);
        const list = Array.isArray(env?.v) ? (env.v as string[]) : [];
        if (list.includes(member)) await write(key, { v: list.filter((m) => m !== member) });
      });
    },
    async members(key) {
      const env = await read(key);
      return Array.isArray(env?.v) ? [...(env.v as string[])] : [];
    },
    async setSize(key) {
      const env = await read(key);
      return Array.isArray(env?.v) ? env.v.length : 0;
    },
    async close() {
      await keyv.disconnect();
    },
  };
}

/**
 * The default store: Keyv's in-memory map. State lives in this process only
 * and is lost on restart.
 */
export class MemoryStore implements Store {
  private readonly inner: ReturnType<typeof keyvStore>;
  constructor(options: KeyvStoreOptions = {}) {
    this.inner = keyvStore(new Keyv(), options);
  }
  get<T>(key: string) {
    return this.inner.get<T>(key);
  }
  set(key: string, value: unknown, ttlMs?: number) {
    return this.inner.set(key, value, ttlMs);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  take<T>(key: string) {
    return this.inner.take<T>(key);
  }
  increment(key: string, ttlMs: number) {
    return this.inner.increment(key, ttlMs);
  }
  compareAndSet(key: string, expected: unknown, value: unknown) {
    return this.inner.compareAndSet(key, expected, value);
  }
  addToSet(key: string, member: string) {
    return this.inner.addToSet(key, member);
  }
  removeFromSet(key: string, member: string) {
    return this.inner.removeFromSet(key, member);
  }
  members(key: string) {
    return this.inner.members(key);
  }
  setSize(key: string) {
    return this.inner.setSize(key);
  }
  close() {
    return this.inner.close();
  }
}
