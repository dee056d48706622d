import { DEFAULT_MAX_QUEUED_BYTES } from '@mcp-gateway/internal/lazy-response';

/** Response headers of every SSE stream the bridge opens. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

const KEEPALIVE = Buffer.from(': keepalive\n\n');

/** Where an {@link SseSink}'s bytes go (the node edge's response, or a `ReadableStream`): a push body's sink. */
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
 * At most `maxQueuedBytes` plus one message wait for a client that does not
 * read (here before the target is attached, in the edge after): a message
 * that comes while more waits cuts the stream, and its owner is told as if
 * the client had left (it may reconnect and resume).
 */
export class SseSink {
  /** Time of the last write, for keep-alives. */
  lastWrite: number;
  private closed = false;
  private ended = false;
  private target: SseTarget | null = null;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;

  constructor(
    now: number,
    private readonly onCancel: (sink: SseSink) => void,
    /** Read by the edge that writes the stream (a push body's cap). */
    readonly maxQueuedBytes: number = DEFAULT_MAX_QUEUED_BYTES,
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
    this.queuedBytes = 0;
    for (const bytes of queued) target.write(bytes);
    // Ended, or cut before anyone read it: the response ends too (a reader would wait forever).
    if (this.ended || this.closed) target.end();
  }

  /** The client went away (called by the target): the sink closes and its owner is told. */
  cancel(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
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
    else if (this.queuedBytes > this.maxQueuedBytes) this.cancel();
    else {
      this.queue.push(bytes);
      this.queuedBytes += bytes.byteLength;
    }
  }
}
