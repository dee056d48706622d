import type http from 'node:http';

/** Response headers of every SSE stream the bridge opens. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

const KEEPALIVE = Buffer.from(': keepalive\n\n');

/** Where an {@link SseSink}'s bytes go: a `ReadableStream` (fetch) or a node `ServerResponse`. */
export interface SseTarget {
  /** Sends bytes to the client. */
  write(bytes: Uint8Array): void;
  /** Ends the HTTP response. */
  end(): void;
}

/**
 * One open SSE connection (text/event-stream, WHATWG HTML §9.2): frames
 * JSON-RPC messages as `event: message` events, writes priming events and
 * keep-alive comments, and reports when the client goes away. Transport
 * neutral: bytes written before a {@link SseTarget} is attached wait for it.
 */
export class SseSink {
  /** Time of the last write, for keep-alives. */
  lastWrite: number;
  private closed = false;
  private ended = false;
  private target: SseTarget | null = null;
  private queue: Uint8Array[] = [];

  constructor(
    now: number,
    private readonly onCancel: (sink: SseSink) => void,
  ) {
    this.lastWrite = now;
  }

  /** True until closed by either side. */
  get open(): boolean {
    return !this.closed;
  }

  /** Connects the sink to its response; what was written so far goes out first. */
  attach(target: SseTarget): void {
    this.target = target;
    const queued = this.queue;
    this.queue = [];
    for (const bytes of queued) target.write(bytes);
    if (this.ended) target.end();
  }

  /** The client went away (called by the target): the sink closes and its owner is told. */
  cancel(): void {
    this.closed = true;
    this.queue = [];
    this.onCancel(this);
  }

  /** Writes `data` (one line of JSON, no newlines) as a message event, with `id` when given. */
  writeMessage(data: Uint8Array, id: string | undefined, now: number): void {
    if (this.closed) return;
    const head = id === undefined ? 'event: message\ndata: ' : `event: message\nid: ${id}\ndata: `;
    const out = Buffer.allocUnsafe(head.length + data.length + 2);
    out.write(head, 0, 'latin1');
    out.set(data, head.length);
    out[out.length - 2] = 0x0a;
    out[out.length - 1] = 0x0a;
    this.enqueue(out, now);
  }

  /** Writes a priming event: an id, an optional reconnection delay, and empty data. */
  writePriming(id: string, retryMs: number | undefined, now: number): void {
    if (this.closed) return;
    const retry = retryMs === undefined ? '' : `retry: ${retryMs}\n`;
    this.enqueue(Buffer.from(`id: ${id}\n${retry}data: \n\n`), now);
  }

  /** Writes a comment line so idle connections stay open through proxies. */
  keepAlive(now: number): void {
    if (!this.closed) this.enqueue(KEEPALIVE, now);
  }

  /** Ends the stream (the HTTP response completes). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.target?.end();
  }

  private enqueue(bytes: Uint8Array, now: number): void {
    this.lastWrite = now;
    if (this.target) this.target.write(bytes);
    else this.queue.push(bytes);
  }
}

/** The sink as a `ReadableStream` body (the fetch path). */
export function sseReadableStream(sink: SseSink): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false;
      sink.attach({
        write(bytes) {
          if (done) return;
          try {
            controller.enqueue(bytes);
          } catch {
            done = true;
          }
        },
        end() {
          if (done) return;
          done = true;
          try {
            controller.close();
          } catch {
            // already cancelled
          }
        },
      });
    },
    cancel() {
      sink.cancel();
    },
  });
}

/** How long an SSE response may wait for its first event before its headers are sent alone. */
export const HEADER_FLUSH_MS = 10;

/**
 * Writes the sink straight to a node response (no web streams): headers
 * leave with the first event when one is ready at once (one packet instead
 * of two), otherwise after {@link HEADER_FLUSH_MS}; events written within
 * one tick leave in one write (cork); while the socket's buffer is full
 * further events wait for 'drain'; a client that disconnects cancels the
 * sink. `writeHead` must have been called.
 */
export function attachNodeResponse(sink: SseSink, res: http.ServerResponse): void {
  let flushTimer: NodeJS.Timeout | undefined = setTimeout(() => {
    flushTimer = undefined;
    if (!res.writableEnded) res.flushHeaders();
  }, HEADER_FLUSH_MS);
  let finished = false;
  let corked = false;
  let waiting: Uint8Array[] | null = null;
  let endAfterDrain = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  const stopTimer = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
  };
  const send = (bytes: Uint8Array) => {
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    if (!res.write(bytes)) {
      waiting = [];
      res.once('drain', onDrain);
    }
  };
  const onDrain = () => {
    const queued = waiting ?? [];
    waiting = null;
    for (let i = 0; i < queued.length; i++) {
      if (waiting) {
        (waiting as Uint8Array[]).push(...queued.slice(i));
        return;
      }
      send(queued[i]!);
    }
    if (!waiting && endAfterDrain) res.end();
  };
  res.once('close', () => {
    stopTimer();
    if (!finished) {
      finished = true;
      sink.cancel();
    }
  });
  if (res.destroyed) {
    // The client left before the answer was ready.
    finished = true;
    stopTimer();
    sink.cancel();
    return;
  }
  sink.attach({
    write(bytes) {
      if (finished) return;
      stopTimer();
      if (waiting) waiting.push(bytes);
      else send(bytes);
    },
    end() {
      if (finished) return;
      finished = true;
      stopTimer();
      if (waiting) endAfterDrain = true;
      else res.end();
    },
  });
}
