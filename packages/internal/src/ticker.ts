// One shared coarse timer for many deadlines (inlined into each package that imports it).
// Web-standard apart from `unref`, which is used when the runtime's timer has it.

/** Something in flight that looks at the time now and then (a deadline, a switch to streaming). */
export interface Ticking {
  /** Called every {@link TICK_MS} or so while registered, with the clock's time. */
  tick(now: number): void;
  /**
   * Where its ticker keeps the item: written by the {@link Ticker} only (an item is in one ticker
   * at a time). A field on the item instead of an entry in a `Set`: young objects added to and
   * deleted from a long-lived `Set` while others stay in it survive V8's scavenges (with the whole
   * request they hold), so every in-flight request was promoted to the old generation.
   */
  tickerSlot?: number;
}

/** How often registered items are looked at, in ms: their deadlines and timers are this coarse. */
export const TICK_MS = 50;

/**
 * One shared timer for every in-flight request with a deadline: a request
 * registers itself and is ticked until it leaves. Per request: an array slot
 * taken and given back (the last item moves into it), no timer (a timer per
 * request costs a `Timeout`, timer-list churn and native calls each). The
 * timer runs only while something is registered (it stops at the first tick
 * that finds nothing) and never keeps the process alive.
 */
export class Ticker {
  private readonly items: Ticking[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly clock: { now(): number },
    private readonly everyMs = TICK_MS,
  ) {}

  /** Ticks `item` from now on, until {@link delete}. */
  add(item: Ticking): void {
    if (this.has(item)) return;
    item.tickerSlot = this.items.push(item) - 1;
    if (!this.timer) {
      const timer = setInterval(() => this.run(), this.everyMs);
      (timer as { unref?: () => void }).unref?.();
      this.timer = timer;
    }
  }

  /** Stops ticking `item`. */
  delete(item: Ticking): void {
    if (!this.has(item)) return;
    const slot = item.tickerSlot!;
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[slot] = last;
      last.tickerSlot = slot;
    }
    item.tickerSlot = undefined;
  }

  /** Items registered now. */
  get size(): number {
    return this.items.length;
  }

  /** Stops the timer (items stay registered, untouched). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private has(item: Ticking): boolean {
    const slot = item.tickerSlot;
    return slot !== undefined && this.items[slot] === item;
  }

  private run(): void {
    if (this.items.length === 0) return this.close();
    const now = this.clock.now();
    // Items may leave (or others join) while ticked: those registered now are ticked while they stay.
    for (const item of this.items.slice()) if (this.has(item)) item.tick(now);
  }
}
