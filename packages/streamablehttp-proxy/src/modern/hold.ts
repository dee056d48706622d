import type { Clock } from '../options.js';
import type { Ticker, Ticking } from './ticker.js';

/** How a bounded wait ended: with the value, at its deadline, or because the client left. */
export type Held<T> = { value: T } | 'timeout' | 'gone';

/**
 * Waits for `value` (which must not reject), at most `timeoutMs` by `clock`
 * (checked by the shared `ticker`; `0`: no deadline) and only while the
 * client stays (`gone` not aborted).
 */
export function holdFor<T>(
  value: Promise<T>,
  ticker: Ticker,
  clock: Clock,
  timeoutMs: number,
  gone: AbortSignal | undefined,
): Promise<Held<T>> {
  if (gone?.aborted) return Promise.resolve('gone');
  return new Promise<Held<T>>((resolve) => {
    const deadline = timeoutMs > 0 ? clock.now() + timeoutMs : Infinity;
    let done = false;
    const finish = (held: Held<T>) => {
      if (done) return;
      done = true;
      ticker.delete(timing);
      gone?.removeEventListener('abort', onGone);
      resolve(held);
    };
    const timing: Ticking = {
      tickerSlot: undefined,
      tick: (now) => {
        if (now >= deadline) finish('timeout');
      },
    };
    const onGone = () => finish('gone');
    if (deadline !== Infinity) ticker.add(timing);
    gone?.addEventListener('abort', onGone, { once: true });
    void value.then((v) => finish({ value: v }));
  });
}
