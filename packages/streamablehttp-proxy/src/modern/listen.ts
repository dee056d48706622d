import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { Classified, JsonRpcId } from '../jsonrpc.js';
import type { Clock } from '../options.js';
import { SSE_HEADERS, SseSink } from '../sse.js';
import type { Reply } from '../exchange.js';
import { META } from './envelope.js';

/** The `subscriptions/listen` filter (2026-07-28). */
export interface SubscriptionFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** Which filter flag lets which child notification through. */
const FLAG_OF: Record<string, keyof SubscriptionFilter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

interface Listener {
  id: JsonRpcId;
  user: string;
  filter: SubscriptionFilter;
  sink: SseSink;
}

/** Bounds of open `subscriptions/listen` streams. */
export interface ListenLimits {
  maxListeners: number;
  maxListenersPerUser: number;
  retryAfterSeconds: number;
  keepAliveMs: number;
}

/**
 * `subscriptions/listen` over 2025 children: one SSE stream per listen
 * request, acknowledged first with the part of the filter the server can
 * honour (its `listChanged` capabilities), then every matching
 * `list_changed` notification any child of the same user sends, tagged with
 * the subscription id (the listen request's id). Bounded per user and overall.
 */
export class Listeners {
  private readonly byUser = new Map<string, Set<Listener>>();
  private count = 0;

  constructor(
    private readonly limits: ListenLimits,
    private readonly clock: Clock,
  ) {}

  /** Open listen streams. */
  get size(): number {
    return this.count;
  }

  /** Opens a stream for `user`; `capabilities` are the child's (what can be honoured). */
  open(
    user: string,
    id: JsonRpcId,
    params: Record<string, unknown>,
    capabilities: Record<string, unknown>,
  ): Reply {
    const wanted = params.notifications;
    if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        'Invalid params: subscriptions/listen needs a notifications filter (an object)',
        {},
        id,
      );
    }
    const filter = agreed(wanted, capabilities);
    const now = this.clock.now();
    const tag = { [META.subscriptionId]: id };
    const frame = (msg: unknown) => Buffer.from(JSON.stringify(msg));
    if (Object.keys(filter).length === 0) {
      // Nothing to listen to: acknowledge the empty filter and end the stream at once.
      const sink = new SseSink(now, () => {});
      sink.writeMessage(frame(ack(filter, tag)), undefined, now);
      end(sink, id, now);
      return { status: 200, headers: { ...SSE_HEADERS }, sse: sink };
    }
    const mine = this.byUser.get(user);
    if ((mine?.size ?? 0) >= this.limits.maxListenersPerUser) {
      throw new BridgeHttpError(
        429,
        JsonRpcCode.ServerError,
        'Too Many Requests: too many subscriptions/listen streams for this user',
        { 'retry-after': String(this.limits.retryAfterSeconds) },
        id,
      );
    }
    if (this.count >= this.limits.maxListeners) {
      throw new BridgeHttpError(
        503,
        JsonRpcCode.ServerError,
        'Service Unavailable: too many subscriptions/listen streams',
        { 'retry-after': String(this.limits.retryAfterSeconds) },
        id,
      );
    }
    const listener: Listener = { id, user, filter, sink: new SseSink(now, () => this.remove(listener)) };
    let set = mine;
    if (!set) this.byUser.set(user, (set = new Set()));
    set.add(listener);
    this.count++;
    listener.sink.writeMessage(frame(ack(filter, tag)), undefined, now);
    return { status: 200, headers: { ...SSE_HEADERS }, sse: listener.sink };
  }

  /** Delivers a child notification to the user's matching streams. */
  deliver(user: string, msg: Classified): void {
    if (msg.kind !== 'notification') return;
    const flag = FLAG_OF[msg.method];
    const set = this.byUser.get(user);
    if (!flag || !set) return;
    const now = this.clock.now();
    for (const l of set) {
      if (!l.filter[flag]) continue;
      const params = (msg.msg.params ?? {}) as Record<string, unknown>;
      const meta = (params._meta ?? {}) as Record<string, unknown>;
      const out = {
        jsonrpc: '2.0',
        method: msg.method,
        params: { ...params, _meta: { ...meta, [META.subscriptionId]: l.id } },
      };
      l.sink.writeMessage(Buffer.from(JSON.stringify(out)), undefined, now);
    }
  }

  /** Keep-alive comments on streams idle for `keepAliveMs`. */
  sweep(now: number): void {
    for (const set of this.byUser.values()) {
      for (const l of set) if (now - l.sink.lastWrite >= this.limits.keepAliveMs) l.sink.keepAlive(now);
    }
  }

  /**
   * Ends every stream gracefully (subscriptions, "Graceful Closure"): each
   * gets the `subscriptions/listen` result, then is closed.
   */
  close(): void {
    const now = this.clock.now();
    for (const set of [...this.byUser.values()]) {
      for (const l of [...set]) {
        end(l.sink, l.id, now);
        this.remove(l);
      }
    }
  }

  private remove(l: Listener): void {
    const set = this.byUser.get(l.user);
    if (!set?.delete(l)) return;
    if (set.size === 0) this.byUser.delete(l.user);
    this.count--;
  }
}

/** The part of `wanted` the child's capabilities support (`listChanged` flags; no resource subscriptions yet). */
function agreed(wanted: SubscriptionFilter, caps: Record<string, unknown>): SubscriptionFilter {
  const out: SubscriptionFilter = {};
  const listChanged = (k: string) => (caps[k] as { listChanged?: unknown } | undefined)?.listChanged === true;
  if (wanted.toolsListChanged === true && listChanged('tools')) out.toolsListChanged = true;
  if (wanted.promptsListChanged === true && listChanged('prompts')) out.promptsListChanged = true;
  if (wanted.resourcesListChanged === true && listChanged('resources')) out.resourcesListChanged = true;
  return out;
}

/** Ends a listen stream with the result of its request `id`: the subscription closed cleanly. */
function end(sink: SseSink, id: JsonRpcId, now: number): void {
  const result = { resultType: 'complete', _meta: { [META.subscriptionId]: id } };
  sink.writeMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, result })), undefined, now);
  sink.close();
}

function ack(filter: SubscriptionFilter, tag: Record<string, unknown>) {
  return {
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: filter, _meta: tag },
  };
}
