/**
 * Time and randomness come from one place so tests can move time instead of
 * sleeping and can make identifiers predictable.
 */

/** A source of the current time, in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }
  /** Sets the time. */
  set(ms: number): void {
    this.current = ms;
  }
}

/** Seconds since the epoch for `ms` (the unit of `iat`, `exp`, `client_id_issued_at`). */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
