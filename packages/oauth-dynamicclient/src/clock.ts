import { unrefInterval } from '@mcp-gateway/internal/unref-interval';

/**
 * Time and randomness come from one place so tests can move time instead of
 * sleeping and can make identifiers predictable.
 */

/** A source of the current time, in milliseconds since the epoch. */
export interface Clock {
  now(): number;
  /**
   * Optional: runs `fn` every `ms` of this clock's time and returns a function
   * that stops it. Clocks without it get an `unref()`ed `setInterval`.
   */
  every?(ms: number, fn: () => void): () => void;
}

/** A wall-clock interval that never keeps the process alive. */
export { unrefInterval };

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now(), every: unrefInterval };

/**
 * A clock tests can move by hand. Intervals scheduled with {@link every} fire
 * when {@link advance} or {@link set} moves time past their due time: once per
 * move (a long jump does not replay every missed tick), then they are due
 * again `ms` later.
 */
export class ManualClock implements Clock {
  private readonly timers = new Set<{ ms: number; due: number; fn: () => void }>();
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
    this.fire();
  }
  /** Sets the time. */
  set(ms: number): void {
    this.current = ms;
    this.fire();
  }
  every(ms: number, fn: () => void): () => void {
    const timer = { ms, due: this.current + ms, fn };
    this.timers.add(timer);
    return () => void this.timers.delete(timer);
  }
  /** How many intervals are scheduled (tests check that `close()` stopped them). */
  get pendingTimers(): number {
    return this.timers.size;
  }
  private fire(): void {
    for (const t of [...this.timers]) {
      if (t.due > this.current || !this.timers.has(t)) continue;
      t.due = this.current + t.ms;
      t.fn();
    }
  }
}

/** Seconds since the epoch for `ms` (the unit of `iat`, `exp`, `client_id_issued_at`). */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
