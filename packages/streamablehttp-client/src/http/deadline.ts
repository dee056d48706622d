import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientError } from '../errors.js';
import type { FetchLike } from './fetch.js';

/** Default deadline of one request to the MCP server: its response headers must arrive within it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Default deadline of the bridge's startup probe (`server/discover`). */
export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

/**
 * A per-request deadline (ms) a caller puts in `RequestInit` for a fetch made
 * by {@link withRequestDeadline}; it survives wrappers that spread `init`
 * (such as {@link createAuthFetch}'s), so it applies to each HTTP request
 * below the OAuth layer, not to a sign-in in between.
 */
export const REQUEST_DEADLINE: unique symbol = Symbol.for('mcp-streamablehttp-client.request-deadline-ms');

/** `RequestInit` with an optional {@link REQUEST_DEADLINE}. */
export type DeadlineInit = RequestInit & { [REQUEST_DEADLINE]?: number };

const aware = new WeakSet<FetchLike>();

/** True when `f` applies {@link REQUEST_DEADLINE} (made by {@link withRequestDeadline}, or marked so). */
export function isDeadlineAware(f: FetchLike): boolean {
  return aware.has(f);
}

/** Marks `f` as passing {@link REQUEST_DEADLINE} on to a deadline-aware fetch; returns it. */
export function markDeadlineAware<F extends FetchLike>(f: F): F {
  aware.add(f);
  return f;
}

/**
 * The error a request that missed its deadline fails with (`kind` network,
 * `code` timeout). `what` says what did not come in time (default: the
 * response, i.e. its headers).
 */
export class DeadlineError extends ClientError {
  constructor(url: string, ms: number, what = 'sent no response') {
    super(
      'network',
      'timeout',
      `${url} ${what} within ${ms / 1000} s (request deadline; see --request-timeout)`,
    );
  }
}

/**
 * `base` with a deadline on every request: the response headers must arrive
 * within `init[REQUEST_DEADLINE]` ms (else `defaultMs`), or the request is
 * aborted with a {@link DeadlineError}. Once the headers are in, the body is
 * not timed: an SSE stream may stay open as long as the server keeps it.
 */
export function withRequestDeadline(base: FetchLike, defaultMs = DEFAULT_REQUEST_TIMEOUT_MS): FetchLike {
  return markDeadlineAware(async (input, init: DeadlineInit = {}) => {
    const ms = init[REQUEST_DEADLINE] ?? defaultMs;
    const { [REQUEST_DEADLINE]: _ms, ...rest } = init;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(new DeadlineError(url, ms)), ms);
    // The caller's signal still aborts the request, body included (no AbortSignal.any: Node 20.0).
    // Its listener goes once the body is done: a transport hands one long-lived signal to every request.
    const outer = rest.signal;
    const onAbort = () => timer.abort(outer!.reason);
    const release = () => outer?.removeEventListener('abort', onAbort);
    if (outer?.aborted) timer.abort(outer.reason);
    else outer?.addEventListener('abort', onAbort, { once: true });
    let res: Response;
    try {
      res = await base(input, { ...rest, signal: timer.signal });
    } catch (err) {
      release();
      if (timer.signal.aborted) throw timer.signal.reason;
      throw err;
    } finally {
      clearTimeout(timeout);
    }
    if (!outer || !res.body) {
      release();
      return res;
    }
    return releasingAtEnd(res, release);
  });
}

/** `res` whose body calls `release` once it ends, fails or is cancelled. */
function releasingAtEnd(res: Response, release: () => void): Response {
  const reader = res.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        release();
        controller.error(err);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * `f` with deadline `ms()` on each request: passed down as
 * {@link REQUEST_DEADLINE} when `f` is deadline-aware (so it times each HTTP
 * request, not an OAuth sign-in around them), else applied around `f`.
 */
export function requestDeadline(f: FetchLike, ms: () => number): FetchLike {
  if (isDeadlineAware(f))
    return (input, init = {}) => f(input, { ...init, [REQUEST_DEADLINE]: ms() } as RequestInit);
  const timed = withRequestDeadline(f);
  return (input, init = {}) => timed(input, { ...init, [REQUEST_DEADLINE]: ms() } as RequestInit);
}

/** Rejects with `signal`'s reason once it aborts (to race a call that does not take the signal). */
export const abortedWith = (signal: AbortSignal): Promise<never> =>
  new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
  );

/**
 * Time that stands still while code run under it ({@link Stopwatch.run})
 * waits in {@link untimed}: a timer or budget of the client that an OAuth
 * sign-in (governed by its own timeout) must not run down.
 */
export class Stopwatch {
  private spent = 0;
  private since: number | undefined = Date.now();
  private waits = 0;

  /** `onPause(true)` when it stops, `onPause(false)` when it goes on. */
  constructor(private readonly onPause?: (paused: boolean) => void) {}

  /** Milliseconds it has run, time in {@link untimed} not counted. */
  elapsed(): number {
    return this.spent + (this.since === undefined ? 0 : Date.now() - this.since);
  }

  /** Runs `fn` so that {@link untimed} under it stops this stopwatch (and any it runs under). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return running.run([...(running.getStore() ?? []), this], fn);
  }

  /** Called by {@link untimed}: stops until as many `resume`s. */
  pause(): void {
    if (this.waits++ > 0) return;
    this.spent = this.elapsed();
    this.since = undefined;
    this.onPause?.(true);
  }

  /** Called by {@link untimed}: goes on once no wait is left. */
  resume(): void {
    if (--this.waits > 0) return;
    this.since = Date.now();
    this.onPause?.(false);
  }
}

/**
 * Calls `expire` once `ms` have passed on the returned stopwatch (so time in
 * {@link untimed} under its `run` does not count); `stop` cancels. `unref`:
 * the timer does not keep the process alive.
 */
export function pausableTimeout(
  ms: number,
  expire: () => void,
  unref = false,
): { watch: Stopwatch; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let over = false;
  const arm = () => {
    timer = setTimeout(
      () => {
        over = true;
        expire();
      },
      Math.max(0, ms - watch.elapsed()),
    );
    if (unref) timer.unref();
  };
  const watch = new Stopwatch((paused) => {
    clearTimeout(timer);
    if (!paused && !over) arm();
  });
  arm();
  return {
    watch,
    stop: () => {
      over = true; // a late resume starts nothing
      clearTimeout(timer);
    },
  };
}

/** The stopwatch behind a signal made by {@link withinDeadline}. */
const clocks = new WeakMap<AbortSignal, Stopwatch>();

/**
 * The stopwatches whose `run` the code runs under, innermost last, for a
 * fetch that does not get a signal of theirs: the MCP SDK transport (2025)
 * sends every request with a signal of its own.
 */
const running = new AsyncLocalStorage<Stopwatch[]>();

/**
 * Runs `wait` with the whole-request deadline of `signal` (one made by
 * {@link withinDeadline}) and every {@link Stopwatch} whose `run` this is
 * called under stopped meanwhile, for time the request spends waiting for
 * credentials (an OAuth sign-in, governed by its own timeout): each goes on
 * once `wait` settles.
 */
export async function untimed<T>(signal: AbortSignal | null | undefined, wait: () => Promise<T>): Promise<T> {
  const own = signal ? clocks.get(signal) : undefined;
  const stopped = new Set([...(own ? [own] : []), ...(running.getStore() ?? [])]);
  for (const watch of stopped) watch.pause();
  try {
    return await wait();
  } finally {
    for (const watch of stopped) watch.resume();
  }
}

/**
 * Runs `run` with a signal that aborts after `ms` with a {@link DeadlineError}
 * saying `what` did not come, for a whole answer that must arrive in time (an
 * MCP SDK request, which takes the signal). If `run` fails once the deadline
 * has passed, it fails with that error. Time spent in {@link untimed} (an
 * OAuth sign-in under the fetch that gets the signal, or under any fetch
 * `run` starts, such as the MCP SDK transport's) does not count.
 */
export async function withinDeadline<T>(
  url: string,
  ms: number,
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const deadline = pausableTimeout(ms, () => abort.abort(new DeadlineError(url, ms, what)));
  clocks.set(abort.signal, deadline.watch);
  try {
    return await deadline.watch.run(() => run(abort.signal));
  } catch (err) {
    if (abort.signal.aborted) throw abort.signal.reason;
    throw err;
  } finally {
    deadline.stop();
  }
}
