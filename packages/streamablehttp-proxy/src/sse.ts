/** Response headers of every SSE stream the bridge opens. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

const KEEPALIVE = Buffer.from(': keepalive\n\n');

/**
 * One open SSE connection (text/event-stream, WHATWG HTML §9.2): frames
 * JSON-RPC messages as `event: message` events, writes priming events and
 * keep-alive comments, and reports when the client goes away.
 */
export class SseSink {
  readonly stream: ReadableStream<Uint8Array>;
  /** Time of the last write, for keep-alives. */
  lastWrite: number;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private closed = false;

  constructor(
    now: number,
    private readonly onCancel: (sink: SseSink) => void,
  ) {
    this.lastWrite = now;
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      cancel: () => {
        this.closed = true;
        this.onCancel(this);
      },
    });
  }

  /** True until closed by either side. */
  get open(): boolean {
    return !this.closed;
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
    try {
      this.controller.close();
    } catch {
      // already cancelled
    }
  }

  private enqueue(bytes: Uint8Array, now: number): void {
    try {
      this.controller.enqueue(bytes);
      this.lastWrite = now;
    } catch {
      this.closed = true;
    }
  }
}
