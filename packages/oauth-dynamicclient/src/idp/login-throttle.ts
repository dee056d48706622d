import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { hashSecret } from '../secrets.js';
import type { Store } from '../store/types.js';

/** Per-account sign-in throttling (see {@link LoginThrottle}). */
export interface LoginThrottleSettings {
  /** Failed attempts for one account before backoff starts (default 5). */
  freeAttempts: number;
  /** The first backoff after {@link freeAttempts} failures (default 5 s); it doubles with each further failure. */
  baseDelayMs: number;
  /** The longest backoff (default 15 min): an account is never locked longer than this at a time. */
  maxDelayMs: number;
  /** Failures are forgotten this long after the first one in a run (default 24 h). */
  windowMs: number;
  /**
   * Most names that are not accounts (`known: false`) given a counter of
   * their own per `windowMs` (default 10 000; counters live one window, so
   * at most twice this many are held). Beyond it, such names share
   * {@link OVERFLOW_BUCKETS} counters by hash; accounts always have their own.
   */
  maxUnknownNames: number;
}

/** Defaults of {@link LoginThrottleSettings}. */
export const defaultLoginThrottle: Readonly<LoginThrottleSettings> = Object.freeze({
  freeAttempts: 5,
  baseDelayMs: 5_000,
  maxDelayMs: 15 * 60_000,
  windowMs: 24 * 60 * 60_000,
  maxUnknownNames: 10_000,
});

/** How many shared counters names beyond {@link LoginThrottleSettings.maxUnknownNames} fall into. */
export const OVERFLOW_BUCKETS = 256;

/** Whether the name is an account (see {@link LoginThrottle}); default `false`. */
export interface AccountKind {
  known?: boolean;
}

/** Once a backoff has run out, at most one attempt per this many ms until it fails or succeeds. */
const SLOT_MS = 10_000;

interface Lock {
  /** When the next attempt may be made (ms on the server's clock). */
  until: number;
}

/** The outcome of {@link LoginThrottle.admit}. */
export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Failed sign-ins counted per account in the store, so the limit holds across
 * instances and source addresses. After `freeAttempts` failures each further
 * failure locks the account for `baseDelayMs · 2^(failures − freeAttempts)`,
 * capped at `maxDelayMs`; during a lock no password is checked. A success
 * resets the count. Nothing is permanent: locks expire, and the count is
 * forgotten `windowMs` after it started.
 *
 * Unknown accounts are counted exactly like known ones, so neither the
 * messages nor the lock reveal which names exist. Accounts are keyed by a
 * hash of the normalised name.
 *
 * Store entries are bounded overall: callers say which names are accounts
 * (`{ known: true }`; their number is the operator's), and names that are
 * not get a counter of their own only for the first `maxUnknownNames` per
 * window. Beyond that, a new unknown name counts in one of
 * {@link OVERFLOW_BUCKETS} shared counters (by hash of the name). So a
 * flood of made-up names can neither lock out a real user (accounts never
 * share a counter) nor free a targeted account from its backoff (its
 * counter is always its own). While the flood lasts, an unknown name may
 * be locked sooner than an account would be (its bucket is shared).
 */
export class LoginThrottle {
  private readonly settings: LoginThrottleSettings;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    settings: Partial<LoginThrottleSettings> = {},
  ) {
    this.settings = { ...defaultLoginThrottle, ...settings };
  }

  private async key(account: string): Promise<string> {
    return hashSecret(`login-throttle\u0000${account.normalize('NFC').toLowerCase()}`);
  }

  /** The backoff after the `failures`-th failure, or 0 while under `freeAttempts`. */
  delayAfter(failures: number): number {
    const { freeAttempts, baseDelayMs, maxDelayMs } = this.settings;
    if (failures < freeAttempts) return 0;
    const exp = Math.min(failures - freeAttempts, 30);
    return Math.min(baseDelayMs * 2 ** exp, maxDelayMs);
  }

  /**
   * Whether a password may be checked for `account` now. Once a backoff has
   * run out, one attempt at a time gets through (parallel guesses do not all
   * slip in before the next failure is recorded).
   */
  async admit(account: string, kind: AccountKind = {}): Promise<Admission> {
    const own = await this.admitKey(await this.key(account));
    if (!own.ok || kind.known) return own;
    // A name that is not an account may be counted in its overflow bucket.
    return this.admitKey(await this.key(overflowName(account)));
  }

  private async admitKey(k: string): Promise<Admission> {
    const lock = await this.store.get<Lock>(`login-lock:${k}`);
    if (!lock) return { ok: true };
    const now = this.clock.now();
    if (now < lock.until) return { ok: false, retryAfterMs: lock.until - now };
    const bucket = Math.floor(now / SLOT_MS);
    const n = await this.store.increment(`login-slot:${k}:${lock.until}:${bucket}`, SLOT_MS);
    return n === 1 ? { ok: true } : { ok: false, retryAfterMs: (bucket + 1) * SLOT_MS - now };
  }

  /** Records a failed attempt; returns the backoff it started (0 = none). */
  async failed(account: string, kind: AccountKind = {}): Promise<number> {
    let k = await this.key(account);
    if (!kind.known && (await this.store.get(`login-fail:${k}`)) === undefined) {
      // A new name that is not an account: its own counter only while there is room in this window.
      const window = Math.floor(this.clock.now() / this.settings.windowMs);
      const names = await this.store.increment(`login-names:${window}`, this.settings.windowMs);
      if (names > this.settings.maxUnknownNames) k = await this.key(overflowName(account));
    }
    const failures = await this.store.increment(`login-fail:${k}`, this.settings.windowMs);
    const delay = this.delayAfter(failures);
    if (delay === 0) {
      // A new run (the window ran out): an old lock no longer applies.
      if (failures === 1) await this.store.delete(`login-lock:${k}`);
      return 0;
    }
    const lock: Lock = { until: this.clock.now() + delay };
    await this.store.set(`login-lock:${k}`, lock, this.settings.windowMs);
    return delay;
  }

  /** A successful sign-in: the account's count and lock are cleared (an account's counter is its own). */
  async succeeded(account: string): Promise<void> {
    const k = await this.key(account);
    await this.store.delete(`login-fail:${k}`);
    await this.store.delete(`login-lock:${k}`);
  }
}

/** The shared counter's name of an unknown name beyond the cap (no account name holds a NUL). */
function overflowName(account: string): string {
  const h = createHash('sha256').update(account.normalize('NFC').toLowerCase()).digest();
  return `\u0000overflow:${h.readUInt32BE(0) % OVERFLOW_BUCKETS}`;
}
