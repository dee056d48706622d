import { FetchError } from './errors.js';

/**
 * Bounds on outgoing fetches in flight: at most `maxPerCaller` for one caller
 * and `maxTotal` over all callers. Each fetch may hold a socket and buffer up
 * to `maxBytes` for up to `timeoutMs`, so these bound the memory, sockets and
 * work any caller (or all of them) can make the server hold.
 *
 * Beyond a bound a fetch is refused at once ({@link FetchError} `busy`);
 * nothing waits, so nothing queues. The map holds only callers with a fetch in
 * flight, so it never has more than `maxTotal` entries.
 */
export class FetchLimiter {
  private readonly perCaller = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerCaller: number,
  ) {}

  /** Fetches in flight, over all callers. */
  get inFlight(): number {
    return this.total;
  }

  /** Fetches in flight for `caller`. */
  inFlightFor(caller: string): number {
    return this.perCaller.get(caller) ?? 0;
  }

  /**
   * Takes a slot for `caller`. Returns its release function (idempotent: the
   * slot comes back once however often it is called).
   *
   * @throws {FetchError} `busy` when the caller's or the overall bound is reached.
   */
  acquire(caller: string): () => void {
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine >= this.maxPerCaller) {
      throw new FetchError(
        'busy',
        `Too many fetches in progress for this caller (at most ${this.maxPerCaller} at once); wait for one to finish and try again.`,
      );
    }
    if (this.total >= this.maxTotal) {
      throw new FetchError(
        'busy',
        `The fetch server is busy (at most ${this.maxTotal} fetches at once); try again shortly.`,
      );
    }
    this.perCaller.set(caller, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.perCaller.set(caller, left);
      else this.perCaller.delete(caller);
    };
  }
}
