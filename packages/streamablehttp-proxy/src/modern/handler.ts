import { LateAnswer } from '@mcp-gateway/internal/lazy-response';
import { BridgeHttpError, JsonRpcCode, modernRefusal } from '../errors.js';
import { errorReply, jsonReply, type Reply, type ResponseObserver } from '../exchange.js';
import { classify } from '../jsonrpc.js';
import { modernBatchRefusal } from '../batch.js';
import type { Logger } from '../log.js';
import type { Clock } from '../options.js';
import { SERVED_PROTOCOL_VERSIONS } from '../protocol-version.js';
import { SSE_HEADERS, SseSink } from '../sse.js';
import { ModernCall, shareable, timeoutError, type CallContext, type CallSink } from './call.js';
import { CHILD_EXITED, type ChildInitResult, type PooledChild } from './child.js';
import { META, checkEnvelope, type HeaderReader, type ModernRequest } from './envelope.js';
import type { Listeners } from './listen.js';
import { holdFor } from './hold.js';
import { checkParamHeaders, type ToolParamHeaders } from './param-headers.js';
import type { Caller, ChildPool } from './pool.js';

/** Methods the 2026-07-28 wire removed: 404 -32601 there (they still work in 2025 sessions). */
const REMOVED: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** The status a late answer settles with when its client left first (nothing is written). */
const CLIENT_CLOSED = 499;

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
  /** Gives a call's child back (`healthy: false`: it missed a deadline, end it): made once, not per call. */
  private readonly releaseChild: (child: PooledChild, healthy: boolean, shared: boolean) => void;

  constructor(
    private readonly cfg: ModernConfig,
    readonly pool: ChildPool,
    readonly listeners: Listeners,
  ) {
    pool.onStray = (user, msg) => listeners.deliver(user, msg);
    this.callContext = {
      ...cfg,
      onUnrouted: (u, msg, child) => this.pool.onStray(u, msg, child),
    };
    this.releaseChild = (c, healthy, shared) =>
      healthy ? this.pool.release(c, shared) : this.pool.retire(c, shared);
  }

  /** The clock every call reads. */
  get clock(): Clock {
    return this.cfg.clock;
  }

  /** Periodic upkeep: idle children, keep-alives on listen streams. */
  sweep(now: number): void {
    this.pool.sweep(now);
    this.listeners.sweep(now);
  }

  /** Ends every listen stream and child. */
  async close(): Promise<void> {
    this.callContext.ticker.close();
    this.listeners.close();
    await this.pool.close();
  }

  /**
   * Handles one parsed POST body of `user`. Refusals ({@link BridgeHttpError})
   * are answered, never thrown. A forwarded call is one promise, no more: the
   * steps before it are synchronous. With `late` (the caller writes late
   * replies) a forwarded call resolves as soon as the child has the request,
   * with a {@link Reply.late} that settles with the answer.
   */
  handle(
    parsed: unknown,
    header: HeaderReader,
    user: string,
    env: Record<string, string> | undefined,
    acceptsSse: boolean,
    observer?: ResponseObserver,
    clientGone?: () => AbortSignal | undefined,
    late = false,
  ): Promise<Reply> {
    try {
      const caller: Caller = { user, env, clientGone, shareable: false };
      const r = this.dispatch(parsed, header, caller, { acceptsSse, late }, observer);
      return r instanceof Promise ? r : Promise.resolve(r);
    } catch (err) {
      return Promise.resolve(refusal(err));
    }
  }

  /** Synchronous up to the call; its async steps settle with the answer, refusals included. */
  private dispatch(
    parsed: unknown,
    header: HeaderReader,
    caller: Caller,
    how: AnswerMode,
    observer: ResponseObserver | undefined,
  ): Reply | Promise<Reply> {
    if (Array.isArray(parsed)) throw modernBatchRefusal();
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
    const req = checkEnvelope(
      c.id,
      c.method,
      params as Record<string, unknown>,
      header,
      SERVED_PROTOCOL_VERSIONS,
    );
    if (req.method === 'server/discover') return this.discover(req, caller).catch(refusal);
    if (req.method === 'subscriptions/listen') {
      if (!how.acceptsSse) {
        throw new BridgeHttpError(
          406,
          JsonRpcCode.ServerError,
          'Not Acceptable: subscriptions/listen answers with text/event-stream',
          {},
          req.id,
        );
      }
      return this.initResult(caller)
        .then((init) => this.listeners.open(caller.user, req.id, req.params, init.capabilities))
        .catch(refusal);
    }
    const shared = (caller.shareable = shareable(req));
    const leased = this.pool.acquire(caller);
    if (leased instanceof Promise) {
      // Every child of the user is busy (or a first one starts): wait, bounded, then the same path.
      return leased
        .then((child) => this.serve(req, header, child, caller, how, observer, shared))
        .catch(refusal);
    }
    return this.serve(req, header, leased, caller, how, observer, shared);
  }

  /**
   * Forwards to a leased child; a `tools/call` once its `Mcp-Param-*` headers
   * match its arguments (SEP-2243), by the child's `x-mcp-header`
   * declarations ({@link PooledChild.declarations}, read when the child
   * starts and when its list changes). While a read runs (and none has
   * failed since the last that succeeded), the call waits for it, at most
   * its own deadline and while its client stays; when the list cannot be
   * read (the read failed or ran late), the call is forwarded unchecked. A
   * refusal gives the child back.
   */
  private serve(
    req: ModernRequest,
    header: HeaderReader,
    child: PooledChild,
    caller: Caller,
    how: AnswerMode,
    observer: ResponseObserver | undefined,
    shared: boolean,
  ): Reply | Promise<Reply> {
    if (req.method !== 'tools/call') return this.forward(req, child, how, observer, shared);
    const declared = child.declarations.lookup();
    if (!(declared instanceof Promise)) {
      if (declared) this.checkParams(declared, req, header, child, shared);
      return this.forward(req, child, how, observer, shared);
    }
    const { ticker, clock, requestTimeoutMs } = this.callContext;
    return holdFor(declared, ticker, clock, requestTimeoutMs, caller.clientGone?.())
      .then((held) => {
        if (held === 'timeout' || held === 'gone' || !child.alive) {
          // The child never had the call: it goes back as it was (a dead one is dropped).
          this.pool.release(child, shared);
          if (held === 'gone') throw clientClosed();
          const error = held === 'timeout' ? timeoutError() : { ...CHILD_EXITED };
          return jsonReply(200, JSON.stringify({ jsonrpc: '2.0', id: req.id, error }));
        }
        if (held.value) this.checkParams(held.value, req, header, child, shared);
        return this.forward(req, child, how, observer, shared);
      })
      .catch(refusal);
  }

  /** {@link checkParamHeaders} for the tool `req` calls; a refusal gives the child back. */
  private checkParams(
    known: ToolParamHeaders,
    req: ModernRequest,
    header: HeaderReader,
    child: PooledChild,
    shared: boolean,
  ): void {
    const declared = known.size === 0 ? undefined : known.get(req.params.name as string);
    if (!declared) return;
    try {
      checkParamHeaders(req.id, declared, req.params.arguments, header);
    } catch (err) {
      this.pool.release(child, shared);
      throw err;
    }
  }

  /** `server/discover` (SEP-2575) from the cached `initialize` result; a child is started only the first time. */
  private async discover(req: ModernRequest, caller: Caller): Promise<Reply> {
    const init = await this.initResult(caller);
    const result = {
      resultType: 'complete',
      supportedVersions: [...SERVED_PROTOCOL_VERSIONS],
      capabilities: modernCapabilities(init.capabilities),
      ...(init.instructions === undefined ? {} : { instructions: init.instructions }),
      ttlMs: this.cfg.listTtlMs,
      cacheScope: 'private',
      _meta: { [META.serverInfo]: init.serverInfo },
    };
    return jsonReply(200, JSON.stringify({ jsonrpc: '2.0', id: req.id, result }));
  }

  /** The cached `initialize` answer of the pool's children (a child of `caller` started the first time). */
  async initResult(caller: Caller): Promise<ChildInitResult> {
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
   * Settles with the answer (refusals included); per call: this promise, one
   * {@link Answer} and one {@link ModernCall}, no closures, no timer. In
   * `late` mode it settles once the child has the request, with a late reply
   * the answer settles (closing it before then cancels the call).
   */
  private forward(
    req: ModernRequest,
    child: PooledChild,
    how: AnswerMode,
    observer: ResponseObserver | undefined,
    shared: boolean,
  ): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      const answer = new Answer(this, resolve, how.acceptsSse, observer);
      const serverInfo = child.init?.serverInfo ?? {};
      const ctx = this.callContext;
      const call = new ModernCall(req, child, serverInfo, ctx, answer, this.releaseChild, shared);
      answer.call = call;
      try {
        call.start();
      } catch (err) {
        // A refusal before the child is asked (bad requestState).
        this.pool.release(child, shared);
        resolve(refusal(err));
        return;
      }
      if (how.late) answer.answerLate();
    });
  }

  /** Tells `observer` (tool-call metrics) of the final answer; its failure is the observer's, never the call's. */
  observe(observer: ResponseObserver, msg: Record<string, unknown>): void {
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
 * The answer for a refusal, with a 2026 code ({@link modernRefusal}); anything else is a fault,
 * rethrown (the http handler answers 500).
 */
function refusal(err: unknown): Reply {
  if (!(err instanceof BridgeHttpError)) throw err;
  return errorReply(modernRefusal(err));
}

/** The refusal of a call whose client left while it waited (nobody reads it). */
function clientClosed(): BridgeHttpError {
  return new BridgeHttpError(499, JsonRpcCode.ServerError, 'Client Closed Request: left while waiting');
}

/** How a forwarded call may be answered: SSE allowed (the client accepts it), late replies allowed (the caller writes them). */
interface AnswerMode {
  acceptsSse: boolean;
  late: boolean;
}

/**
 * The HTTP answer of one forwarded call ({@link CallSink}): plain JSON when
 * the final message comes first; an SSE stream from the first notification
 * to stream, or once the call has run {@link STREAM_AFTER_MS} (a keep-alive
 * comment, so closing the stream cancels the call). Either one is handed
 * over when it exists, or, after {@link answerLate}, settles the late reply
 * handed over before.
 */
class Answer implements CallSink {
  call!: ModernCall;
  private sse: SseSink | undefined;
  private late: LateAnswer | undefined;
  /** True once the final reply (JSON or the stream) was handed over. */
  private answered = false;

  constructor(
    private readonly handler: ModernHandler,
    private readonly resolve: (reply: Reply) => void,
    private readonly acceptsSse: boolean,
    private readonly observer: ResponseObserver | undefined,
  ) {}

  get observing(): boolean {
    return this.observer !== undefined;
  }

  notify(msg: Record<string, unknown>): void {
    if (this.acceptsSse) this.stream().writeMessage(Buffer.from(JSON.stringify(msg)), undefined, this.now());
  }

  tick(elapsed: number, now: number): void {
    if (this.acceptsSse && !this.sse && elapsed >= STREAM_AFTER_MS) this.stream().keepAlive(now);
  }

  done(status: number, msg: Record<string, unknown> | undefined, text?: string): void {
    const body = text ?? JSON.stringify(msg);
    if (!this.sse) this.handOver(jsonReply(status, body));
    else {
      this.sse.writeMessage(Buffer.from(body), undefined, this.now());
      this.sse.close();
    }
    // The observer hears of the answer once it is handed to its stream (ResponseObserver's contract).
    if (this.observer && msg) this.handler.observe(this.observer, msg);
  }

  /**
   * Hands a late reply over now (the call runs; nothing final exists yet): it
   * settles with the JSON answer or the stream. The client leaving before
   * that cancels the call and settles it as 499 (nginx's "client closed
   * request"), so access lines and counters still see the request end.
   */
  answerLate(): void {
    if (this.answered || this.late) return;
    const late = new LateAnswer(() => {
      this.call.cancel('client closed the connection');
      late.settle({ status: CLIENT_CLOSED, headers: {}, body: null });
    });
    this.late = late;
    this.resolve({ status: 200, headers: {}, late });
  }

  /** The final reply: settles the late one, or is handed over itself. */
  private handOver(reply: Reply): void {
    this.answered = true;
    if (!this.late) return this.resolve(reply);
    this.late.settle({ status: reply.status, headers: reply.headers, body: reply.sse ?? reply.body ?? null });
  }

  private now(): number {
    return this.handler.clock.now();
  }

  private stream(): SseSink {
    if (!this.sse) {
      this.sse = new SseSink(this.now(), () => this.call.cancel('client closed the response stream'));
      this.handOver({ status: 200, headers: { ...SSE_HEADERS }, sse: this.sse });
    }
    return this.sse;
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
