import { StringDecoder } from 'node:string_decoder';
import type { ResponseObserver } from '@mcp-gateway/streamablehttp-proxy';
import type { GatewayMetrics } from '../ops/metrics.js';

/** Most bytes of one answer (a JSON body, or one event of a stream) read to find the replies; beyond it the tap lets go. */
const MAX_OBSERVED_BYTES = 8 * 1024 * 1024;

/** A JSON-RPC message of a request body, as the gateway parsed it. */
export interface ObservedRequest {
  id?: unknown;
  method?: unknown;
  params?: { name?: unknown } | null;
}

type Watched = { method: 'tools/call'; tool: string } | { method: 'tools/list' };

/**
 * Tool-call observation, a hook on the MCP route: the `tools/call` and
 * `tools/list` requests of one exchange, matched by JSON-RPC id against the
 * backend's replies. A `tools/list` result teaches {@link GatewayMetrics} the
 * tool names the service publishes; a `tools/call` is counted only when the
 * backend answered it with a result (a JSON-RPC error, such as an unknown
 * tool, is not a call).
 *
 * The replies arrive one of two ways, never changed: from a stdio bridge as
 * the messages it already parsed to route them ({@link onResponse}, the
 * node:http path: no bytes are read again), or, for a `Response` of any
 * other backend, by reading its body on the way through
 * ({@link tapResponse}). Once every watched request is answered (or an
 * answer is too large to read) the observation does nothing more.
 */
export class ToolObservation implements ResponseObserver {
  private readonly pending = new Map<unknown, Watched>();
  /**
   * Made by {@link tapResponse} only: the stdio path never decodes bytes. A
   * `StringDecoder`, not a `TextDecoder`: each `TextDecoder` holds a native
   * converter that costs far more to make and slows every young GC.
   */
  private decoder: StringDecoder | undefined;
  /** Text read but not yet parsed: the whole JSON body, or the unfinished event of a stream. */
  private text = '';
  private mode: 'json' | 'sse' | undefined;
  private done = false;

  private constructor(
    private readonly service: string,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** The observation of `messages` for `service`, or `undefined` when none of them is watched. */
  static of(
    service: string,
    messages: ObservedRequest[],
    metrics: GatewayMetrics,
  ): ToolObservation | undefined {
    let o: ToolObservation | undefined;
    for (const m of messages) {
      if (m.id === undefined || m.id === null) continue;
      let w: Watched;
      if (m.method === 'tools/call' && typeof m.params?.name === 'string') {
        w = { method: 'tools/call', tool: m.params.name };
      } else if (m.method === 'tools/list') {
        w = { method: 'tools/list' };
      } else continue;
      (o ??= new ToolObservation(service, metrics)).pending.set(m.id, w);
    }
    return o;
  }

  /**
   * One JSON-RPC response of the backend, already parsed (the stdio bridge's
   * {@link ResponseObserver} hook). Runs per response: a map lookup, no parsing.
   */
  onResponse(message: Readonly<Record<string, unknown>>): void {
    if (!this.done) this.answer(message);
  }

  /** The same response, its body read on the way through (backends without {@link onResponse}). */
  tapResponse(res: Response): Response {
    if (!res.body) return res;
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          this.read(chunk);
          controller.enqueue(chunk);
        },
        flush: () => this.end(),
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  private read(chunk: Uint8Array): void {
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

  private end(): void {
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
      if (typeof m === 'object' && m !== null) this.answer(m as Record<string, unknown>);
    }
  }

  private answer(m: Readonly<Record<string, unknown>>): void {
    const w = this.pending.get(m.id);
    if (!w || !('result' in m || 'error' in m)) return;
    this.pending.delete(m.id);
    const result = m.result as { tools?: unknown; resultType?: unknown } | undefined;
    // MCP 2026-07-28 (MRTR): an input_required result asks the client for more; its retry is the call.
    if (result?.resultType === 'input_required') {
      // not counted
    } else if (w.method === 'tools/list' && result && Array.isArray(result.tools)) {
      this.metrics.learnTools(
        this.service,
        (result.tools as unknown[]).map((t) => (t as { name?: unknown } | null)?.name),
      );
    } else if (w.method === 'tools/call' && 'result' in m) {
      this.metrics.countToolCall(this.service, w.tool);
    }
    if (this.pending.size === 0) this.stop();
  }

  private stop(): void {
    this.done = true;
    this.text = '';
  }
}
