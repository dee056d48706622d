import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import { errorReply, jsonReply, type Reply, type ResponseObserver } from '../exchange.js';
import { classify } from '../jsonrpc.js';
import type { Logger } from '../log.js';
import type { Clock } from '../options.js';
import { MODERN_PROTOCOL_VERSIONS } from '../protocol-version.js';
import { SSE_HEADERS, SseSink } from '../sse.js';
import { ModernCall, type CallContext, type CallSink } from './call.js';
import type { ChildInitResult } from './child.js';
import { META, checkEnvelope, type HeaderReader, type ModernRequest } from './envelope.js';
import type { Listeners } from './listen.js';
import type { Caller, ChildPool } from './pool.js';

/** Methods the 2026-07-28 wire removed: 404 -32601 there (they still work in 2025 sessions). */
const REMOVED: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** A forwarded call with nothing to stream yet is answered as SSE after this long, so closing it cancels. */
const STREAM_AFTER_MS = 200;

/** What the modern handler needs besides the pool. */
export interface ModernConfig extends Omit<CallContext, 'onUnrouted'> {
  clock: Clock;
  logger: Logger;
}

/**
 * Serves one 2026-07-28 request (the http handler classified it with
 * `requestEra`): checks the envelope and headers, answers `server/discover`
 * from the pool's cached `initialize` result, refuses removed methods, and
 * forwards the rest to a leased child of the caller ({@link ModernCall}).
 */
export class ModernHandler {
  /** What every call shares: made once, not per request. */
  private readonly callContext: CallContext;

  constructor(
    private readonly cfg: ModernConfig,
    readonly pool: ChildPool,
    readonly listeners: Listeners,
  ) {
    pool.onStray = (user, msg) => listeners.deliver(user, msg);
    this.callContext = { ...cfg, onUnrouted: (u, msg, child) => this.pool.onStray(u, msg, child) };
  }

  /** Periodic upkeep: idle children, keep-alives on listen streams. */
  sweep(now: number): void {
    this.pool.sweep(now);
    this.listeners.sweep(now);
  }

  /** Ends every listen stream and child. */
  async close(): Promise<void> {
    this.listeners.close();
    await this.pool.close();
  }

  /** Handles one parsed POST body of `user`. Errors are answered, never thrown. */
  async handle(
    parsed: unknown,
    header: HeaderReader,
    user: string,
    env: Record<string, string> | undefined,
    acceptsSse: boolean,
    observer?: ResponseObserver,
    clientGone?: () => AbortSignal | undefined,
  ): Promise<Reply> {
    try {
      return await this.dispatch(parsed, header, { user, env, clientGone }, acceptsSse, observer);
    } catch (err) {
      if (!(err instanceof BridgeHttpError)) throw err;
      return errorReply(err);
    }
  }

  private async dispatch(
    parsed: unknown,
    header: HeaderReader,
    caller: Caller,
    acceptsSse: boolean,
    observer: ResponseObserver | undefined,
  ): Promise<Reply> {
    if (Array.isArray(parsed)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidRequest,
        'Invalid Request: 2026-07-28 requests are never batched',
      );
    }
    const c = classify(parsed);
    if (!c || c.kind === 'response') {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidRequest,
        'Invalid Request: not a JSON-RPC 2.0 request',
      );
    }
    // Notifications have no use on the stateless wire (closing a response is the cancellation).
    if (c.kind === 'notification') return { status: 202, headers: {} };
    const params = c.msg.params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        'Invalid params: params must be an object',
        {},
        c.id,
      );
    }
    if (REMOVED.has(c.method)) {
      throw new BridgeHttpError(
        404,
        JsonRpcCode.MethodNotFound,
        `Method not found: ${c.method} is not part of MCP 2026-07-28`,
        {},
        c.id,
      );
    }
    const req = checkEnvelope(c.id, c.method, params as Record<string, unknown>, header);
    if (req.method === 'server/discover') return this.discover(req, caller);
    if (req.method === 'subscriptions/listen') {
      if (!acceptsSse) {
        throw new BridgeHttpError(
          406,
          JsonRpcCode.ServerError,
          'Not Acceptable: subscriptions/listen answers with text/event-stream',
          {},
          req.id,
        );
      }
      const init = await this.initResult(caller);
      return this.listeners.open(caller.user, req.id, req.params, init.capabilities);
    }
    return this.forward(req, caller, acceptsSse, observer);
  }

  /** `server/discover` (SEP-2575) from the cached `initialize` result; a child is started only the first time. */
  private async discover(req: ModernRequest, caller: Caller): Promise<Reply> {
    const init = await this.initResult(caller);
    const result = {
      resultType: 'complete',
      supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
      capabilities: modernCapabilities(init.capabilities),
      ...(init.instructions === undefined ? {} : { instructions: init.instructions }),
      ttlMs: this.cfg.listTtlMs,
      cacheScope: 'private',
      _meta: { [META.serverInfo]: init.serverInfo },
    };
    return jsonReply(200, JSON.stringify({ jsonrpc: '2.0', id: req.id, result }));
  }

  private async initResult(caller: Caller): Promise<ChildInitResult> {
    if (this.pool.initResult) return this.pool.initResult;
    const leased = this.pool.acquire(caller);
    const child = leased instanceof Promise ? await leased : leased;
    this.pool.release(child);
    return child.init!;
  }

  /**
   * Forwards to a leased child. The answer starts as plain JSON, so that an
   * error found early (`-32021` when the child asks for input the client
   * cannot give) keeps its HTTP status; it turns into an SSE stream at the
   * first notification to stream, or after {@link STREAM_AFTER_MS} (a
   * keep-alive comment), from which point closing it cancels the call.
   */
  private async forward(
    req: ModernRequest,
    caller: Caller,
    acceptsSse: boolean,
    observer: ResponseObserver | undefined,
  ): Promise<Reply> {
    const leased = this.pool.acquire(caller);
    const child = leased instanceof Promise ? await leased : leased;
    const serverInfo = child.init?.serverInfo ?? {};
    const ctx = this.callContext;
    return new Promise<Reply>((resolve) => {
      let sse: SseSink | undefined;
      let timer: NodeJS.Timeout | undefined;
      const stream = (): SseSink => {
        if (!sse) {
          clearTimeout(timer);
          sse = new SseSink(this.cfg.clock.now(), () => call.cancel('client closed the response stream'));
          resolve({ status: 200, headers: { ...SSE_HEADERS }, sse });
        }
        return sse;
      };
      const write = (msg: Record<string, unknown>) =>
        stream().writeMessage(Buffer.from(JSON.stringify(msg)), undefined, this.cfg.clock.now());
      let finished = false;
      const sink: CallSink = {
        notify: (msg) => acceptsSse && write(msg),
        done: (
          status: number,
          msg: Record<string, unknown> | (() => Record<string, unknown>),
          text?: string,
        ) => {
          finished = true;
          clearTimeout(timer);
          if (observer) this.observe(observer, typeof msg === 'function' ? msg() : msg);
          text ??= JSON.stringify(msg);
          if (!sse) return resolve(jsonReply(status, text));
          stream().writeMessage(Buffer.from(text), undefined, this.cfg.clock.now());
          sse.close();
        },
      };
      const call = new ModernCall(req, child, serverInfo, ctx, sink, (c, healthy) =>
        healthy ? this.pool.release(c) : this.pool.discard(c),
      );
      try {
        call.start();
      } catch (err) {
        // A refusal before the child is asked (bad requestState).
        this.pool.release(child);
        if (!(err instanceof BridgeHttpError)) throw err;
        return resolve(errorReply(err));
      }
      if (acceptsSse && !finished) {
        timer = setTimeout(() => stream().keepAlive(this.cfg.clock.now()), STREAM_AFTER_MS);
        timer.unref();
      }
    });
  }

  /** Tells `observer` (tool-call metrics) of the final answer; its failure is the observer's, never the call's. */
  private observe(observer: ResponseObserver, msg: Record<string, unknown>): void {
    try {
      observer.onResponse(msg);
    } catch (err) {
      this.cfg.logger.error('response observer failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/**
 * The child's capabilities as a 2026 server states them: `resources.subscribe`
 * dropped (`resources/subscribe` is gone from the wire), the rest as is.
 */
export function modernCapabilities(caps: Record<string, unknown>): Record<string, unknown> {
  const out = { ...caps };
  const resources = caps.resources;
  if (typeof resources === 'object' && resources !== null) {
    const { subscribe: _dropped, ...rest } = resources as Record<string, unknown>;
    out.resources = rest;
  }
  return out;
}
