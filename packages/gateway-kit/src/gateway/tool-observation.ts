import type { GatewayMetrics } from '../ops/metrics.js';
import { tapReplies, type ReplyWatcher } from './reply-tap.js';

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
export class ToolObservation implements ReplyWatcher {
  private readonly pending = new Map<unknown, Watched>();
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
    return tapReplies(res, this);
  }

  /** True once every watched request is answered: a tap reads no further for it. */
  get satisfied(): boolean {
    return this.done;
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
  }
}
