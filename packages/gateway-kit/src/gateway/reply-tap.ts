import { StringDecoder } from 'node:string_decoder';
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

/** The parsing state of one tapped answer. */
class ReplyReader {
  /**
   * A `StringDecoder`, not a `TextDecoder`: each `TextDecoder` holds a native
   * converter that costs far more to make and slows every young GC.
   */
  private decoder: StringDecoder | undefined;
  /** Text read but not yet parsed: the whole JSON body, or the unfinished event of a stream. */
  private text = '';
  private mode: 'json' | 'sse' | undefined;
  private done = false;

  constructor(private readonly watcher: ReplyWatcher) {}

  read(chunk: Uint8Array): void {
    if (this.done) return;
    this.text += (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    if (this.mode === undefined) {
      const first = /\S/.exec(this.text);
      if (!first) return;
      this.mode = first[0] === '{' || first[0] === '[' ? 'json' : 'sse';
    }
    if (this.mode === 'sse') this.events();
    if (this.text.length > MAX_OBSERVED_BYTES) this.stop();
  }

  end(): void {
    if (this.done) return;
    if (this.decoder) this.text += this.decoder.end();
    if (this.mode === 'json') this.parse(this.text);
    else if (this.mode === 'sse') this.events(true);
    this.stop();
  }

  /** Parses every complete event of the stream read so far (and the last one at its end). */
  private events(final = false): void {
    let text = this.text.includes('\r') ? this.text.replace(/\r\n/g, '\n') : this.text;
    for (;;) {
      const at = text.indexOf('\n\n');
      if (at === -1) break;
      this.event(text.slice(0, at));
      text = text.slice(at + 2);
      if (this.done) return;
    }
    if (final && text.trim()) this.event(text);
    this.text = text;
  }

  private event(block: string): void {
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (data.length) this.parse(data.join('\n'));
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
