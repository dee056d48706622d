/**
 * The `input_required` rounds of one request (MCP 2026-07-28
 * basic/patterns/mrtr, SEP-2322), client side: how many a request may take,
 * how many input requests one round may carry, and how rounds that carry only
 * `requestState` are paced.
 */
import { ServerError } from '../errors.js';
import { Stopwatch } from '../http/deadline.js';

/** One input request of an `input_required` result. */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

/** Most `input_required` rounds with input requests one request may take. */
export const MAX_INPUT_ROUNDS = 10;

/**
 * Most input requests one round may carry: each becomes a request to the
 * stdio host, all in parallel, each waiting for a person for up to 10
 * minutes. A round asking for more fails the request.
 */
export const MAX_INPUT_REQUESTS = 16;

/**
 * Pacing of rounds that carry only `requestState` (no `inputRequests`: the
 * server sheds load, or waits for something outside the request, such as a URL
 * elicitation the user has yet to finish). The spec lets a client retry such a
 * round at once ("the client MAY retry the original request immediately",
 * mrtr "Client Requirements"); this client waits `firstMs`, doubling up to
 * `maxMs`, and gives up once `budgetMs` have passed since the first such round
 * (a round with input requests starts over), not counting time its requests
 * spent waiting for an OAuth sign-in.
 */
export interface StateRetry {
  firstMs: number;
  maxMs: number;
  budgetMs: number;
}

/** The default {@link StateRetry}: 250 ms doubling up to 8 s, for 5 minutes. */
export const DEFAULT_STATE_RETRY: StateRetry = { firstMs: 250, maxMs: 8000, budgetMs: 300_000 };

/** The well-formed input requests of a round, by key. */
export function asInputRequests(value: unknown): Record<string, InputRequest> {
  const out: Record<string, InputRequest> = {};
  if (!value || typeof value !== 'object') return out;
  for (const [key, r] of Object.entries(value as Record<string, unknown>)) {
    if (r && typeof r === 'object' && typeof (r as InputRequest).method === 'string')
      out[key] = r as InputRequest;
  }
  return out;
}

/** The methods of a round's input requests, for messages. */
export function describeInputs(requests: Record<string, InputRequest>): string {
  const methods = Object.values(requests).map((r) => r.method);
  return methods.length ? methods.join(', ') : 'a retry with requestState';
}

/** Resolves after `ms`, or rejects with `signal`'s reason once it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Keeps count of one request's rounds: refuses the one too many, waits before a state-only retry. */
export class RoundKeeper {
  /**
   * The time of the state-retry budget: run the request's rounds under it
   * (`clock.run`), so a sign-in one of them waits for does not spend it.
   */
  readonly clock = new Stopwatch();
  private inputRounds = 0;
  private delay: number;
  private stateSince: number | undefined;

  constructor(
    private readonly what: string,
    private readonly pacing: StateRetry = DEFAULT_STATE_RETRY,
  ) {
    this.delay = pacing.firstMs;
  }

  /** A round with input requests: fails past {@link MAX_INPUT_ROUNDS} rounds or {@link MAX_INPUT_REQUESTS} requests. */
  inputRound(requests: Record<string, InputRequest>): void {
    const count = Object.keys(requests).length;
    if (count > MAX_INPUT_REQUESTS)
      throw new ServerError(
        'too_many_inputs',
        `${this.what} asked for ${count} inputs in one round; at most ${MAX_INPUT_REQUESTS} are answered`,
      );
    if (++this.inputRounds > MAX_INPUT_ROUNDS)
      throw new ServerError(
        'input_rounds',
        `${this.what} asked for input more than ${MAX_INPUT_ROUNDS} times`,
      );
    this.delay = this.pacing.firstMs;
    this.stateSince = undefined;
  }

  /** A round with only `requestState`: waits before its retry; fails once the budget would be spent. */
  async stateRound(signal: AbortSignal | undefined): Promise<void> {
    const now = this.clock.elapsed();
    this.stateSince ??= now;
    if (now - this.stateSince + this.delay > this.pacing.budgetMs)
      throw new ServerError(
        'input_rounds',
        `${this.what} kept asking for a retry with requestState for more than ${this.pacing.budgetMs / 1000} s`,
      );
    await pause(this.delay, signal);
    this.delay = Math.min(this.delay * 2, this.pacing.maxMs);
  }
}
