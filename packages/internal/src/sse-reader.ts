// The one reader of `text/event-stream` bodies (WHATWG HTML §9.2.6 "Parsing an event stream") for
// every package (inlined into each at build time). Web-standard only.
//
// Written here rather than taken from `eventsource-parser`: its 3.x line (the one installed, the
// last for Node 20) holds back a `\r` that ends a chunk until the next chunk arrives, so on a stream
// with bare CR line ends an event waits for the next one; 4.x fixes that but needs Node ≥ 22.12.
// And reading the body, the bound's error and abort would still be ours.

/** What an {@link SseParser} delivers and how much of one event it may hold. */
export interface SseParserOptions {
  /** Called with the `data` of each event (its `data:` lines joined with `\n`). */
  onData: (data: string) => void;
  /**
   * Most characters (UTF-16 code units, a string's `length`) of one event held at once: its data
   * so far plus the line not yet ended. Past it, `feed` throws what `tooLarge` makes.
   */
  maxEventLength: number;
  /** The error for an event past `maxEventLength`. */
  tooLarge: () => Error;
}

const LF = 10;

/**
 * A push parser of an event stream's text: lines end with LF, CRLF or a bare CR (also a CR ending
 * one chunk and an LF starting the next); a blank line dispatches the event's `data`, its `data:`
 * lines (with or without the one space after the colon) joined with `\n`; comments (`:`) and the
 * other fields (`event`, `id`, `retry`, unknown ones) are ignored; a leading BOM is dropped. At
 * {@link end}, an event the stream left without its blank line is still dispatched (the
 * spec drops it; the readers this one replaced kept it), its unended last line included.
 */
export class SseParser {
  /** The line not yet ended. */
  private line = '';
  /** The `data:` values of the event so far; `undefined` before its first. */
  private data: string[] | undefined;
  private dataLength = 0;
  /** The last chunk ended with a CR: an LF starting the next one is the same line end. */
  private skipLF = false;
  private started = false;

  constructor(private readonly options: SseParserOptions) {}

  /** Parses the next piece of the stream's text. */
  feed(text: string): void {
    let start = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.skipLF && start < text.length) {
      if (text.charCodeAt(start) === LF) start++;
      this.skipLF = false;
    }
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (lf >= 0 || cr >= 0) {
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const piece = text.slice(start, end);
      const line = this.line ? this.line + piece : piece;
      this.line = '';
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.skipLF = true;
        else if (text.charCodeAt(start) === LF) start++;
      }
      this.onLine(line);
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
    }
    if (start < text.length) this.line += text.slice(start);
    this.checkSize();
  }

  /** The stream ended: dispatches what is left of its last event. */
  end(): void {
    if (this.line) this.onLine(this.line);
    this.line = '';
    this.onLine('');
  }

  private onLine(line: string): void {
    if (line === '') {
      const data = this.data;
      this.data = undefined;
      this.dataLength = 0;
      if (data) this.options.onData(data.join('\n'));
      return;
    }
    if (!line.startsWith('data')) return;
    let value: string;
    if (line.length === 4) value = '';
    else if (line.charCodeAt(4) !== 58 /* : */) return;
    else value = line.slice(line.charCodeAt(5) === 32 /* space */ ? 6 : 5);
    (this.data ??= []).push(value);
    this.dataLength += value.length + 1;
    this.checkSize();
  }

  private checkSize(): void {
    if (this.dataLength + this.line.length > this.options.maxEventLength) {
      this.data = undefined;
      this.dataLength = 0;
      this.line = '';
      throw this.options.tooLarge();
    }
  }
}

/**
 * A stateful converter of an event stream's text, piece by piece, to LF line ends: CRLF and a
 * bare CR become LF, also when a CR ends one piece and its LF starts the next (that LF is
 * dropped). For code that rewrites a stream's events rather than only reading their data.
 */
export function lfLineEnds(): (text: string) => string {
  let skipLF = false;
  return (text) => {
    if (text.length === 0) return text;
    if (skipLF && text.charCodeAt(0) === LF) text = text.slice(1);
    skipLF = text.endsWith('\r');
    return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  };
}

/**
 * The `data` of every event in a whole event-stream text (see {@link SseParser}). No bound: the
 * text is in memory already, and no event is longer than it.
 */
export function sseDataOf(text: string): string[] {
  const out: string[] = [];
  const unbounded = { maxEventLength: Number.POSITIVE_INFINITY, tooLarge: () => new Error('unreachable') };
  const parser = new SseParser({ onData: (d) => out.push(d), ...unbounded });
  parser.feed(text);
  parser.end();
  return out;
}

/** How {@link readSseData} reads a body. */
export interface SseReadOptions {
  /** Most characters of one event (see {@link SseParserOptions.maxEventLength}). */
  maxEventLength: number;
  /** The error thrown for an event past it; the body is cancelled. */
  tooLarge: () => Error;
  /** Stops reading: the iteration ends (no error) and the body is cancelled. */
  signal?: AbortSignal;
}

/**
 * The `data` of each event of an event-stream body, as it arrives (see {@link SseParser} for
 * the rules). The body is cancelled and its reader released when the iteration ends, however it
 * ends: the body's end, `signal`, an event past the bound (what `tooLarge` makes is thrown), an
 * error of the body (thrown as it is), or the caller leaving the loop.
 */
export async function* readSseData(
  body: ReadableStream<Uint8Array>,
  options: SseReadOptions,
): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', cancel, { once: true });
  const ready: string[] = [];
  const parser = new SseParser({ ...options, onData: (d) => ready.push(d) });
  const decoder = new TextDecoder();
  try {
    while (!signal?.aborted) {
      const { done, value } = await reader.read();
      if (signal?.aborted) return;
      // Events the chunk completed before one past the bound are still delivered, then the error.
      let failure: { error: unknown } | undefined;
      try {
        if (done) {
          parser.feed(decoder.decode());
          parser.end();
        } else parser.feed(decoder.decode(value, { stream: true }));
      } catch (error) {
        failure = { error };
      }
      for (let i = 0; i < ready.length; i++) {
        yield ready[i]!;
        if (signal?.aborted) return;
      }
      ready.length = 0;
      if (failure) throw failure.error;
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
