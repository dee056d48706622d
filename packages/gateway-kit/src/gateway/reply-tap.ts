import { StringDecoder } from 'node:string_decoder';
import { SseParser } from '@mcp-gateway/internal/sse-reader';
import type { ResponseObserver } from '@mcp-gateway/streamablehttp-proxy';

/** Most bytes of one answer (a JSON body, or one event of a stream) read to find the replies; beyond it the tap lets go. */
const MAX_OBSERVED_BYTES = 8 * 1024 * 1024;

/** A {@link ResponseObserver} that can say it has seen what it waited for, and hear that the answer ended. */
export interface ReplyWatcher extends ResponseObserver {
  /** True once nothing more is wanted: the tap stops parsing. */
  readonly satisfied: boolean;
  /** The answer's body ended, or the tap let go of it (too large). */
  ended?(): void;
}

/**
 * The same response, its body read on the way through (never changed): each
 * JSON-RPC message of a JSON body or of an SSE stream's events goes to
 * `watcher.onResponse`, until the watcher is satisfied. For backends that do
 * not tell an observer of their replies themselves (the stdio bridge does).
 */
export function tapReplies(res: Response, watcher: ReplyWatcher): Response {
  if (!res.body) {
    watcher.ended?.();
    return res;
  }
  const reader = new ReplyReader(watcher);
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        reader.read(chunk);
        controller.enqueue(chunk);
      },
      flush: () => reader.end(),
    }),
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The tap let go of an answer: one event of its stream was past {@link MAX_OBSERVED_BYTES}. */
class TooLargeToObserve extends Error {}
const tooLarge = () => new TooLargeToObserve();

/** The parsing state of one tapped answer. */
class ReplyReader {
  /**
   * A `StringDecoder`, not a `TextDecoder`: each `TextDecoder` holds a native
   * converter that costs far more to make and slows every young GC.
   */
  private decoder: StringDecoder | undefined;
  /** Text read but not yet parsed: the whole JSON body, or what came before the first non-space character. */
  private text = '';
  private mode: 'json' | 'sse' | undefined;
  /** An event stream's events, read by the one reader (`@mcp-gateway/internal/sse-reader`). */
  private events: SseParser | undefined;
  private done = false;

  constructor(private readonly watcher: ReplyWatcher) {}

  read(chunk: Uint8Array): void {
    if (this.done) return;
    const text = (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    if (this.mode === 'sse') return this.feed(text);
    this.text += text;
    if (this.mode === undefined) {
      const first = /\S/.exec(this.text);
      if (!first) return;
      this.mode = first[0] === '{' || first[0] === '[' ? 'json' : 'sse';
      if (this.mode === 'sse') {
        this.events = new SseParser({
          onData: (data) => this.done || this.parse(data),
          maxEventLength: MAX_OBSERVED_BYTES,
          tooLarge,
        });
        const read = this.text;
        this.text = '';
        return this.feed(read);
      }
    }
    if (this.text.length > MAX_OBSERVED_BYTES) this.stop();
  }

  end(): void {
    if (this.done) return;
    const rest = this.decoder?.end() ?? '';
    if (this.mode === 'json') this.parse(this.text + rest);
    else if (this.mode === 'sse') this.feed(rest, true);
    this.stop();
  }

  /** Parses the stream's next text (its `last`): each complete event's data goes to {@link parse}. */
  private feed(text: string, last = false): void {
    const events = this.events!;
    try {
      events.feed(text);
      if (last && !this.done) events.end();
    } catch (err) {
      if (!(err instanceof TooLargeToObserve)) throw err;
      this.stop();
    }
  }

  private parse(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    for (const m of Array.isArray(json) ? (json as unknown[]) : [json]) {
      if (typeof m === 'object' && m !== null) this.watcher.onResponse(m as Record<string, unknown>);
      if (this.watcher.satisfied) return this.stop();
    }
  }

  private stop(): void {
    if (this.done) return;
    this.done = true;
    this.text = '';
    this.watcher.ended?.();
  }
}
