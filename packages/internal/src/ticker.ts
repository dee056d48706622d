// One shared coarse timer for many deadlines (inlined into each package that imports it).
// Web-standard apart from `unref`, which is used when the runtime's timer has it.

/** Something in flight that looks at the time now and then (a deadline, a switch to streaming). */
export interface Ticking {
  /** Called every {@link TICK_MS} or so while registered, with the clock's time. */
  tick(now: number): void;
}

/** How often registered items are looked at, in ms: their deadlines and timers are this coarse. */
export const TICK_MS = 50;

/**
 * One shared timer for every in-flight request with a deadline: a request
 * registers itself and is ticked until it leaves. Per request: a set insert
 * and delete, no timer (a timer per request costs a `Timeout`, timer-list
 * churn and native calls each). The timer runs only while something is
 * registered (it stops at the first tick that finds nothing) and never keeps
 * the process alive.
 */
export class Ticker {
  private readonly items = new Set<Ticking>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly clock: { now(): number },
    private readonly everyMs = TICK_MS,
  ) {}

  /** Ticks `item` from now on, until {@link delete}. */
  add(item: Ticking): void {
    this.items.add(item);
    if (!this.timer) {
      const timer = setInterval(() => this.run(), this.everyMs);
      (timer as { unref?: () => void }).unref?.();
      this.timer = timer;
    }
  }

  /** Stops ticking `item`. */
  delete(item: Ticking): void {
    this.items.delete(item);
  }

  /** Items registered now. */
  get size(): number {
    return this.items.size;
  }

  /** Stops the timer (items stay registered, untouched). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    if (this.items.size === 0) return this.close();
    const now = this.clock.now();
    // An item may leave (or others join) while ticked: Set iteration allows both.
    for (const item of this.items) item.tick(now);
  }
}
