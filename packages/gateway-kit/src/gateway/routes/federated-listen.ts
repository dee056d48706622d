/**
 * The two ways a federated endpoint's clients hear of list changes: a 2025
 * session's `GET` event stream (one per session) and a 2026-07-28
 * `subscriptions/listen` stream (acknowledged with the filter it honours,
 * each notification tagged with the subscription id). Both are listeners of
 * the endpoint's {@link ListChanges}, which bounds them.
 */
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { GatewayError, JsonRpcCode } from '../../errors.js';
import type { RequestInfo } from '../../http/node.js';
import type { Identity } from '../../identity.js';
import type { ListChanges, Listener } from '../../federation/listeners.js';
import { RESOURCE_UPDATED } from '../../federation/member-subscription.js';
import { LIST_CHANGED, type ChangedKind } from '../../federation/watch.js';

/** Milliseconds between keep-alive comments on an idle stream. */
const KEEP_ALIVE_MS = 25_000;
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
};

/** The `subscriptions/listen` filter flag of each list kind. */
const FLAG: Record<ChangedKind, string> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
};

/** An event stream the endpoint writes. */
export interface Stream {
  response: Response;
  write(msg: unknown): void;
  close(): void;
  /** True once the client went or the stream was closed. */
  readonly ended: boolean;
}

/** An event stream the endpoint writes; `onEnd` once, when the client goes or it is closed. */
export function eventStream(info: RequestInfo, onEnd: () => void): Stream {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    onEnd();
  };
  const push = (text: string) => {
    if (!ended) controller?.enqueue(encoder.encode(text));
  };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: end,
  });
  const timer = setInterval(() => push(': keep-alive\n\n'), KEEP_ALIVE_MS);
  timer.unref();
  info.signal?.addEventListener('abort', end, { once: true });
  return {
    response: new Response(body, { status: 200, headers: SSE_HEADERS }),
    write: (msg) => push(`event: message\ndata: ${JSON.stringify(msg)}\n\n`),
    close: () => {
      if (ended) return;
      controller?.close();
      end();
    },
    get ended() {
      return ended;
    },
  };
}

/**
 * Resource subscriptions a `subscriptions/listen` stream holds while it is open
 * (its filter's `resourceSubscriptions`): `subscribe` resolves with the URIs
 * taken, `release` ends them with the stream.
 */
export interface ListenResources {
  subscribe(
    key: string,
    identity: Identity,
    uris: string[],
    deliver: (params: Record<string, unknown>) => void,
  ): Promise<string[]>;
  release(key: string): void;
}

/** The `resourceSubscriptions` of a filter: URIs, or `undefined` when it names none; throws -32602 when malformed. */
function resourceUris(wanted: Record<string, unknown>): string[] | undefined {
  const uris = wanted.resourceSubscriptions;
  if (uris === undefined) return undefined;
  if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) {
    const message = 'Invalid params: notifications.resourceSubscriptions must be an array of URIs';
    throw new GatewayError(400, -32602, message);
  }
  return [...new Set(uris)];
}

/**
 * The writes of a `subscriptions/listen` stream, the acknowledgement first (the spec's MUST):
 * whatever comes before {@link acknowledge} (a change, a resource update, the end) is held
 * and written, in order, right after it.
 */
class AckFirst {
  private held: unknown[] | undefined = [];
  private ending = false;

  constructor(private readonly stream: Stream) {}

  write(msg: unknown): void {
    if (this.held) this.held.push(msg);
    else this.stream.write(msg);
  }

  /** Writes `last` and closes the stream (once acknowledged). */
  end(last: unknown): void {
    this.write(last);
    if (this.held) this.ending = true;
    else this.stream.close();
  }

  /** Writes the acknowledgement, then what was held. */
  acknowledge(ack: unknown): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.stream.write(ack);
    for (const msg of held) this.stream.write(msg);
    if (this.ending) this.stream.close();
  }
}

/** True when an `Accept` header takes event streams. */
export const acceptsEvents = (accept: string | null) => (accept ?? '').includes('text/event-stream');

/** The list-change streams of one federated endpoint. */
export class FederatedListen {
  /** The open `GET` stream of each 2025 session. */
  private readonly sessionStreams = new Map<string, Stream>();
  /** Listen streams opened so far (their resource subscriptions' keys). */
  private opened = 0;

  constructor(
    readonly changes: ListChanges,
    /** Resource subscriptions on listen streams (none: `resourceSubscriptions` is acknowledged empty). */
    private readonly resources?: ListenResources,
  ) {}

  /** Writes `msg` on the `GET` stream of a 2025 session; false when it has none open. */
  notifySession(sessionId: string, msg: unknown): boolean {
    const stream = this.sessionStreams.get(sessionId);
    if (!stream || stream.ended) return false;
    stream.write(msg);
    return true;
  }

  /** A 2025 session's `GET` stream: 409 when the session has one already. */
  async sessionStream(
    sessionId: string,
    identity: Identity,
    accept: string | null,
    info: RequestInfo,
  ): Promise<Response> {
    if (!acceptsEvents(accept)) {
      throw new GatewayError(406, JsonRpcCode.InvalidRequest, 'Not Acceptable: GET needs text/event-stream');
    }
    if (this.sessionStreams.has(sessionId)) {
      throw new GatewayError(409, JsonRpcCode.InvalidRequest, 'Conflict: this session has a stream open');
    }
    let remove: (() => void) | undefined;
    const stream = eventStream(info, () => {
      if (this.sessionStreams.get(sessionId) === stream) this.sessionStreams.delete(sessionId);
      remove?.();
    });
    const listener: Listener = {
      send: (kind) => stream.write({ jsonrpc: '2.0', method: LIST_CHANGED[kind] }),
      close: () => stream.close(),
    };
    this.sessionStreams.set(sessionId, stream);
    try {
      remove = await this.changes.add(identity, listener);
    } catch (err) {
      stream.close();
      throw err;
    }
    // The client went while the member listens opened.
    if (stream.ended) remove();
    return stream.response;
  }

  /** Ends the `GET` stream of a session that ended. */
  sessionClosed(sessionId: string): void {
    this.sessionStreams.get(sessionId)?.close();
  }

  /** A 2026-07-28 `subscriptions/listen` request: acknowledged, then its kinds' notifications. */
  async listen(
    id: string | number | null,
    params: Record<string, unknown>,
    identity: Identity,
    accept: string | null,
    info: RequestInfo,
    /** False when no member can change: the filter is acknowledged empty. */
    canChange: boolean,
  ): Promise<Response> {
    const wanted = params.notifications;
    if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted)) {
      const message = 'Invalid params: subscriptions/listen needs a notifications filter (an object)';
      throw new GatewayError(400, -32602, message);
    }
    if (!acceptsEvents(accept)) {
      const message = 'Not Acceptable: subscriptions/listen answers with text/event-stream';
      throw new GatewayError(406, JsonRpcCode.BackendUnavailable, message);
    }
    const kinds = (Object.keys(FLAG) as ChangedKind[]).filter(
      (k) => canChange && (wanted as Record<string, unknown>)[FLAG[k]] === true,
    );
    const uris = this.resources ? resourceUris(wanted as Record<string, unknown>) : undefined;
    const tag = { [MCP_META_KEYS.subscriptionId]: id };
    const honoured: Record<string, unknown> = Object.fromEntries(kinds.map((k) => [FLAG[k], true]));
    const ack = () => ({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: honoured, _meta: tag },
    });
    const key = `listen:${++this.opened}`;
    let remove: (() => void) | undefined;
    const stream = eventStream(info, () => {
      remove?.();
      this.resources?.release(key);
    });
    // Nothing may precede the acknowledgement: what comes while member listens open and
    // resource subscriptions are taken waits for it.
    const out = new AckFirst(stream);
    const done = () => out.end({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: tag } });
    if (kinds.length === 0 && !uris?.length) {
      // Nothing to listen to: the empty filter acknowledged, the subscription ended at once.
      out.acknowledge(ack());
      done();
      return stream.response;
    }
    const listener: Listener = {
      send: (kind) => {
        if (kinds.includes(kind))
          out.write({ jsonrpc: '2.0', method: LIST_CHANGED[kind], params: { _meta: tag } });
      },
      close: done,
    };
    try {
      remove = await this.changes.add(identity, listener);
    } catch (err) {
      stream.close();
      throw err;
    }
    const taken =
      uris?.length && !stream.ended ? await this.takeResources(key, identity, uris, tag, out, stream) : [];
    if (taken.length) honoured.resourceSubscriptions = taken;
    out.acknowledge(ack());
    // Only resource subscriptions asked for, and none taken: nothing to listen to.
    if (kinds.length === 0 && !taken.length) done();
    if (stream.ended) remove();
    return stream.response;
  }

  /** Takes the stream's resource subscriptions (their updates written through `out`); the URIs taken. */
  private async takeResources(
    key: string,
    identity: Identity,
    uris: string[],
    tag: Record<string, unknown>,
    out: AckFirst,
    stream: Stream,
  ): Promise<string[]> {
    const resources = this.resources!;
    const taken = await resources.subscribe(key, identity, uris, (params) =>
      out.write({ jsonrpc: '2.0', method: RESOURCE_UPDATED, params: { ...params, _meta: tag } }),
    );
    // The client went while they were taken.
    if (stream.ended) resources.release(key);
    return taken;
  }

  /** Ends every stream. */
  close(): void {
    this.changes.close();
  }
}
