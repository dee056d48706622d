import { Worker } from 'node:worker_threads';
import { FetchError } from '../errors.js';
import type { Simplified } from './html-to-markdown.js';
import type { ConversionReply, ConversionRequest } from './html-worker.js';

/** Bounds of a {@link ConversionPool}. */
export interface ConversionPoolOptions {
  /** Worker threads at most (started on demand, kept for reuse). */
  workers: number;
  /** Conversions waiting for a free worker at most; one more is refused (`busy`). */
  maxQueued: number;
  /** Time one conversion may run in its worker, ms; then the worker is terminated (`timeout`). */
  timeoutMs: number;
  /** The worker script. Default: {@link htmlWorkerUrl}. */
  workerUrl?: URL;
}

/**
 * `html-worker.js` next to the built module (`dist/`, where tsup puts both). Run from the
 * TypeScript sources (this package's tests), the built one in `dist/`: a worker thread cannot load
 * `.ts` files on Node 20.
 */
export function htmlWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('../../dist/html-worker.js', here)
    : new URL('./html-worker.js', here);
}

interface Job {
  request: ConversionRequest;
  timeoutMs: number;
  resolve(result: Simplified): void;
  reject(err: Error): void;
  /** Removes the caller's abort listener. */
  detach(): void;
  /** Whether the caller has its outcome (result, error or cancellation); later outcomes are dropped. */
  settled?: boolean;
}

interface Thread {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

const closing = () => new FetchError('aborted', 'The fetch server is shutting down');

/**
 * Converts HTML to Markdown in worker threads, so no page can stall the main thread (and with it
 * every other request): at most `workers` threads, each converting one page at a time, and at
 * most `maxQueued` conversions waiting. A conversion that runs past `timeoutMs` has its worker
 * terminated (a fresh one is started for the next) and fails with `timeout`. A cancelled
 * conversion fails at once, but its worker finishes the page (still within the deadline) and then
 * takes the next one: cancelling costs no worker restart. Idle workers are kept for reuse but
 * never keep the process alive; {@link close} ends them all.
 */
export class ConversionPool {
  private readonly workerUrl: URL;
  private readonly idle: Thread[] = [];
  private readonly running = new Set<Thread>();
  private readonly queue: Job[] = [];
  /** Every worker not yet exited (terminated ones until their `exit` event). */
  private readonly alive = new Set<Worker>();
  private closed = false;
  private spawned = 0;

  constructor(private readonly options: ConversionPoolOptions) {
    this.workerUrl = options.workerUrl ?? htmlWorkerUrl();
  }

  /** Worker threads that exist now (started and not yet exited). */
  get threads(): number {
    return this.alive.size;
  }

  /** Worker threads started since the pool was created (each restart counts). */
  get started(): number {
    return this.spawned;
  }

  /** Conversions waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Converts `html` (see `htmlToMarkdown`) in a worker. Aborting `signal` drops a waiting
   * conversion, or fails a running one at once while its worker finishes the page (bounded by
   * the deadline) and then stays for the next.
   *
   * @throws {FetchError} `busy` when the queue is full, `timeout` past the deadline, `aborted`
   * when `signal` aborts or the pool closes. An `Error` when the worker fails.
   */
  convert(
    html: string,
    pageUrl: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Simplified> {
    if (this.closed) return Promise.reject(closing());
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(new FetchError('aborted', 'The fetch was cancelled'));
    const hasRoom = this.idle.length > 0 || this.size < this.options.workers;
    if (!hasRoom && this.queue.length >= this.options.maxQueued) {
      return Promise.reject(
        new FetchError(
          'busy',
          `The fetch server is busy converting pages (${this.options.maxQueued} waiting); try again shortly.`,
        ),
      );
    }
    return new Promise<Simplified>((resolve, reject) => {
      const onAbort = () => this.cancel(job);
      const job: Job = {
        request: { html, pageUrl },
        timeoutMs: opts.timeoutMs ?? this.options.timeoutMs,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (hasRoom) this.start(job);
      else this.queue.push(job);
    });
  }

  /** Terminates every worker and fails every conversion in progress or waiting (`aborted`). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) settle(job, closing());
    for (const thread of [...this.running]) this.discard(thread, closing());
    for (const thread of this.idle.splice(0)) void thread.worker.terminate();
    await Promise.all([...this.alive].map((w) => w.terminate()));
  }

  /** Threads usable now (idle or converting; not the terminated ones still exiting). */
  private get size(): number {
    return this.idle.length + this.running.size;
  }

  private start(job: Job): void {
    const thread = this.idle.pop() ?? this.spawn();
    thread.job = job;
    this.running.add(thread);
    thread.timer = setTimeout(() => {
      const error = new FetchError(
        'timeout',
        `Converting ${job.request.pageUrl} from HTML to Markdown took longer than ${job.timeoutMs} ms and was stopped; fetch it with raw: true to get the HTML as it is.`,
      );
      this.discard(thread, error);
    }, job.timeoutMs);
    thread.worker.postMessage(job.request);
  }

  private spawn(): Thread {
    const worker = new Worker(this.workerUrl);
    this.spawned++;
    const thread: Thread = { worker };
    this.alive.add(worker);
    worker.on('message', (reply: ConversionReply) => this.finish(thread, reply));
    worker.on('error', (err) => this.discard(thread, err));
    worker.on('exit', (code) => {
      this.alive.delete(worker);
      this.discard(thread, new Error(`The HTML conversion worker exited (code ${code})`));
    });
    // An idle worker must not keep the process alive (a conversion's timer does while one runs).
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return thread;
  }

  private finish(thread: Thread, reply: ConversionReply): void {
    const job = thread.job;
    if (!job) return;
    clearTimeout(thread.timer);
    thread.job = undefined;
    this.running.delete(thread);
    this.idle.push(thread);
    settle(job, reply.ok ? undefined : new Error(reply.error), reply.ok ? reply.result : undefined);
    this.pump();
  }

  /** Terminates `thread` (its job, if any, fails with `error`); a waiting job may start on a new one. */
  private discard(thread: Thread, error: Error): void {
    const job = thread.job;
    clearTimeout(thread.timer);
    thread.job = undefined;
    this.running.delete(thread);
    const i = this.idle.indexOf(thread);
    if (i >= 0) this.idle.splice(i, 1);
    void thread.worker.terminate();
    if (job) settle(job, error);
    this.pump();
  }

  /**
   * Fails `job` (`aborted`) now. A waiting job leaves the queue; a running one stays on its
   * worker, which finishes the page (or is terminated at the deadline) before it takes the next
   * job, and its outcome is then dropped: terminating the worker would make the next conversion
   * pay for loading the converter again, and a caller cancelling fetch after fetch would make
   * every one pay.
   */
  private cancel(job: Job): void {
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) this.queue.splice(waiting, 1);
    settle(job, new FetchError('aborted', 'The fetch was cancelled'));
  }

  private pump(): void {
    while (
      !this.closed &&
      this.queue.length > 0 &&
      (this.idle.length > 0 || this.size < this.options.workers)
    ) {
      this.start(this.queue.shift()!);
    }
  }
}

function settle(job: Job, error: Error | undefined, result?: Simplified): void {
  if (job.settled) return;
  job.settled = true;
  job.detach();
  if (error) job.reject(error);
  else job.resolve(result!);
}
