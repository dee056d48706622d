import type { ChildExit, ChildProcess } from './child-process.js';
import { describeExit } from './child-process.js';
import { jsonRpcErrorBody } from '@mcp-gateway/internal/jsonrpc-error';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import type { Reply, ResponseObserver } from './exchange.js';
import { EventStore, formatEventId, parseEventId, type EventStoreLimits } from './event-store.js';
import { classify, progressTokenOf, type Classified, type JsonRpcId } from './jsonrpc.js';
import type { Logger } from './log.js';
import type { BridgeMetrics } from './metrics.js';
import type { Clock } from './options.js';
import { supportsPrimingEvents } from './protocol-version.js';
import { SSE_HEADERS, SseSink } from './sse.js';

/** What every session shares with the bridge. */
export interface SessionContext {
  clock: Clock;
  logger: Logger;
  metrics: BridgeMetrics;
  retryMs: number;
  /** Deadline of a request without progress, in ms; `0`: none. */
  requestTimeoutMs: number;
  /** Longest a request's deadline can be moved by progress, in ms after it was sent. */
  maxRequestTimeoutMs: number;
  /** Time from opening within which the child must answer `initialize`, in ms. */
  initializeTimeoutMs: number;
  sessionTimeoutMs: number;
  keepAliveMs: number;
  killGraceMs: number;
  /** Most requests of one session waiting for the child; beyond, 429 (a batch that would pass it: whole). */
  maxInFlightPerSession: number;
  /** Most bytes one of its SSE streams holds for a client that does not read; beyond, it is cut. */
  maxStreamQueueBytes: number;
  eventStore: EventStoreLimits | false;
  /** Called once when the session has ended (its child is being killed). */
  onClosed(session: Session): void;
  /** Called when an `initialize` stops being in flight (answered, timed out or cancelled). */
  onInitializeSettled(session: Session): void;
}

/** A client message as received: its classification and its text, framed as one line. */
export interface IncomingMessage {
  c: Classified;
  line: string;
}

/** How a POST wants its answers. */
export interface PostOptions {
  mode: 'sse' | 'json';
  /** The client speaks a version with priming events (and resumes with Last-Event-ID). */
  resumable: boolean;
  /** The body was a JSON array (answer a JSON array in JSON mode). */
  batch: boolean;
  /** Told of each response to one of these requests. */
  observer?: ResponseObserver;
}

interface Pending {
  id: JsonRpcId;
  stream: OutStream;
  method: string;
  started: number;
  /** When the client gets a timeout error (`Infinity`: never); progress moves it. */
  deadline: number;
  token: JsonRpcId | undefined;
  observer: ResponseObserver | undefined;
}

/**
 * One logical stream of a session: the standalone GET stream (number 0) or
 * the stream answering one POST. Its connection (`sink`) may come and go
 * (resumption); its numbering and stored events stay.
 */
class OutStream {
  sink: SseSink | null = null;
  seq = 0;
  open = 0;
  json: Buffer[] = [];
  resolveJson: ((r: Reply) => void) | undefined;
  constructor(
    readonly no: number,
    readonly mode: 'sse' | 'json',
    public resumable: boolean,
    readonly batch: boolean,
  ) {}
}

/**
 * Most messages held for the next GET while no GET stream is open (the oldest
 * go first); their bytes are bounded by `maxStreamQueueBytes` too.
 */
export const GET_BACKLOG_MAX = 1000;

/**
 * One MCP session: one child process and the HTTP streams of its client.
 * Routes every child message to exactly one stream: a response to the
 * stream of the request that asked; progress to the stream of the request
 * that carries its token; other server requests and notifications to the
 * GET stream, or (when none is open) the newest open request stream.
 */
export class Session {
  /** Last time a client request touched this session. */
  lastActivity: number;
  /** Protocol version the child agreed to in `initialize`. */
  protocolVersion: string | undefined;
  /** When the session was opened. */
  readonly openedAt: number;
  /** True once the child has answered `initialize` with a result. */
  initialized = false;
  closed = false;
  private readonly pending = new Map<JsonRpcId, Pending>();
  private readonly progress = new Map<JsonRpcId, Pending>();
  private readonly streams = new Map<number, OutStream>();
  private readonly getStream = new OutStream(0, 'sse', false, false);
  private getBacklog: { id: string | undefined; data: Buffer }[] = [];
  private getBacklogBytes = 0;
  private readonly store: EventStore | null;
  private nextStreamNo = 1;
  private newestSse: OutStream | undefined;

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
    readonly identity: string | undefined,
    private readonly ctx: SessionContext,
  ) {
    this.openedAt = this.lastActivity = ctx.clock.now();
    this.store = ctx.eventStore ? new EventStore(ctx.eventStore) : null;
    child.onLine = (line) => this.fromChild(line);
    child.onStderr = (line) => ctx.logger.info('child stderr', { session: id, pid: child.pid, line });
    child.onOverflow = (bytes) =>
      ctx.logger.error('child stdout line over the cap dropped', { session: id, pid: child.pid, bytes });
    child.onExit = (exit) => this.childExited(exit);
    if (child.exit) queueMicrotask(() => this.childExited(child.exit!));
  }

  /** Requests still waiting for the child's answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * True while a request waits for the child and its deadline is still ahead:
   * such a session is neither reaped as idle nor evicted for its user's cap.
   */
  busy(now: number): boolean {
    for (const p of this.pending.values()) if (p.deadline > now) return true;
    return false;
  }

  /** Events held for resumption. */
  get storedEvents(): number {
    return this.store?.size ?? 0;
  }

  /**
   * Forwards a POST's messages to the child. Without requests the answer is
   * 202; otherwise an SSE stream (or, in JSON mode, a JSON body once every
   * request is answered).
   */
  async post(items: IncomingMessage[], opts: PostOptions): Promise<Reply> {
    this.assertOpen();
    const now = this.ctx.clock.now();
    this.lastActivity = now;
    let requests = 0;
    let firstId: JsonRpcId | null = null;
    for (const item of items) {
      if (item.c.kind !== 'request') continue;
      if (requests++ === 0) firstId = item.c.id;
      if (this.pending.has(item.c.id)) {
        throw new BridgeHttpError(
          400,
          JsonRpcCode.InvalidRequest,
          `Request id ${JSON.stringify(item.c.id)} is already in use`,
        );
      }
    }
    const maxInFlight = this.ctx.maxInFlightPerSession;
    if (this.pending.size + requests > maxInFlight) {
      // Refused before anything is written: a batch that would pass the cap reaches the child not at all.
      this.ctx.metrics.rejectedInFlight++;
      this.ctx.logger.warn('requests refused: in-flight cap of the session', {
        session: this.id,
        inFlight: this.pending.size,
        requests,
        max: maxInFlight,
      });
      throw new BridgeHttpError(
        429,
        JsonRpcCode.ServerError,
        `Too Many Requests: more than ${maxInFlight} requests in flight on this session`,
        {},
        opts.batch ? null : firstId,
      );
    }
    if (requests === 0) {
      let drain: Promise<void> | undefined;
      for (const item of items) {
        if (item.c.kind === 'notification' && item.c.method === 'notifications/cancelled')
          this.clientCancelled(item.c.msg);
        drain = this.child.write(item.line) ?? drain;
      }
      if (drain) await drain;
      return { status: 202, headers: {} };
    }
    const stream = new OutStream(
      this.nextStreamNo++,
      opts.mode,
      opts.mode === 'sse' && opts.resumable && !!this.store,
      opts.batch,
    );
    this.streams.set(stream.no, stream);
    let response: Reply | Promise<Reply>;
    if (opts.mode === 'sse') {
      const sink = new SseSink(now, (s) => this.detach(stream, s), this.ctx.maxStreamQueueBytes);
      stream.sink = sink;
      if (stream.resumable) sink.writePriming(formatEventId(stream.no, 0), this.ctx.retryMs, now);
      this.newestSse = stream;
      response = { status: 200, headers: { ...SSE_HEADERS, 'mcp-session-id': this.id }, sse: sink };
    } else {
      response = new Promise<Reply>((resolve) => (stream.resolveJson = resolve));
    }
    const requestDeadline = this.ctx.requestTimeoutMs > 0 ? now + this.ctx.requestTimeoutMs : Infinity;
    let drain: Promise<void> | undefined;
    for (const item of items) {
      const c = item.c;
      if (c.kind === 'request') {
        const token = progressTokenOf(c.msg);
        const deadline =
          c.method === 'initialize'
            ? Math.min(requestDeadline, this.openedAt + this.ctx.initializeTimeoutMs)
            : requestDeadline;
        const p: Pending = {
          id: c.id,
          stream,
          method: c.method,
          started: now,
          deadline,
          token,
          observer: opts.observer,
        };
        this.pending.set(c.id, p);
        if (token !== undefined) this.progress.set(token, p);
        stream.open++;
        this.ctx.metrics.rpcRequests++;
      } else if (c.kind === 'notification' && c.method === 'notifications/cancelled') {
        this.clientCancelled(c.msg);
      }
      drain = this.child.write(item.line) ?? drain;
    }
    if (drain) await drain;
    return response;
  }

  /** Opens the standalone GET stream, or resumes a stream after `lastEventId`. */
  get(lastEventId: string | null): Reply {
    this.assertOpen();
    const now = this.ctx.clock.now();
    this.lastActivity = now;
    const headers = { ...SSE_HEADERS, 'mcp-session-id': this.id };
    if (lastEventId !== null && this.store) {
      const at = parseEventId(lastEventId);
      if (!at)
        throw new BridgeHttpError(400, JsonRpcCode.ServerError, 'Bad Request: malformed Last-Event-ID');
      const target = at.stream === 0 ? this.getStream : this.streams.get(at.stream);
      const sink = new SseSink(now, (s) => target && this.detach(target, s), this.ctx.maxStreamQueueBytes);
      this.store.replayAfter(at.stream, at.seq, (ev) =>
        sink.writeMessage(ev.data, formatEventId(ev.stream, ev.seq), now),
      );
      if (!target) {
        // The stream has finished: what was stored is all there is.
        sink.close();
      } else {
        target.sink?.close();
        target.sink = sink;
        if (target === this.getStream) this.clearGetBacklog();
      }
      return { status: 200, headers, sse: sink };
    }
    const sink = new SseSink(now, (s) => this.detach(this.getStream, s), this.ctx.maxStreamQueueBytes);
    this.getStream.sink?.close();
    this.getStream.sink = sink;
    if (this.getStream.resumable) {
      sink.writePriming(formatEventId(0, this.getStream.seq), this.ctx.retryMs, now);
    }
    const backlog = this.getBacklog;
    this.clearGetBacklog();
    for (const ev of backlog) sink.writeMessage(ev.data, ev.id, now);
    return { status: 200, headers, sse: sink };
  }

  /**
   * Ends the session: requests in flight are answered with a JSON-RPC error
   * carrying `message`, every stream closes, and the child's process group is
   * killed. Resolves once the child has exited.
   */
  close(reason: string, message = 'Session ended'): Promise<ChildExit> {
    if (!this.closed) {
      this.closed = true;
      this.ctx.logger.info('session closed', { session: this.id, pid: this.child.pid, reason });
      for (const p of this.pending.values()) {
        this.deliver(p.stream, Buffer.from(jsonRpcErrorBody(p.id, JsonRpcCode.ServerError, message)), true);
      }
      this.pending.clear();
      this.progress.clear();
      this.getStream.sink?.close();
      for (const s of this.streams.values()) this.endStream(s);
      this.ctx.onClosed(this);
    }
    return this.child.kill(this.ctx.killGraceMs);
  }

  /** Periodic upkeep: request deadlines, initialize timeout, keep-alives, idle reaping. */
  sweep(now: number): void {
    if (this.closed) return;
    for (const p of this.pending.values()) {
      if (now >= p.deadline) this.timeOut(p);
      if (this.closed) return;
    }
    if (!this.initialized && now - this.openedAt >= this.ctx.initializeTimeoutMs) {
      this.initializeTimedOut();
      return;
    }
    const keepAlive = this.ctx.keepAliveMs;
    const gs = this.getStream.sink;
    if (gs && now - gs.lastWrite >= keepAlive) gs.keepAlive(now);
    for (const s of this.streams.values()) {
      if (s.sink && now - s.sink.lastWrite >= keepAlive) s.sink.keepAlive(now);
    }
    // Requests past their deadline were answered above: they never keep a session alive.
    if (!this.busy(now) && now - this.lastActivity >= this.ctx.sessionTimeoutMs) {
      void this.close('idle', 'Session expired');
    }
  }

  /** A session that ended while a request was on its way answers like an unknown one. */
  private assertOpen(): void {
    if (this.closed) throw new BridgeHttpError(404, JsonRpcCode.SessionNotFound, 'Session not found');
  }

  private fromChild(line: Buffer): void {
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      this.skip(line);
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value) this.route(v, Buffer.from(JSON.stringify(v)));
      return;
    }
    this.route(value, line);
  }

  private route(value: unknown, line: Buffer): void {
    const c = classify(value);
    if (!c) {
      this.skip(line);
      return;
    }
    if (c.kind === 'response') {
      const p = c.id === null ? undefined : this.pending.get(c.id);
      if (!p) {
        this.ctx.logger.debug('response to no pending request dropped', { session: this.id, id: c.id });
        return;
      }
      this.pending.delete(p.id);
      if (p.token !== undefined) this.progress.delete(p.token);
      this.ctx.metrics.observeLatency((this.ctx.clock.now() - p.started) / 1000);
      if (p.method === 'initialize') {
        this.initializeAnswered(c.msg);
        this.ctx.onInitializeSettled(this);
      }
      this.deliver(p.stream, line, true);
      if (p.observer) this.notify(p.observer, c.msg);
      return;
    }
    let target: OutStream | undefined;
    if (c.method === 'notifications/progress') {
      const token = (c.msg.params as { progressToken?: JsonRpcId } | undefined)?.progressToken;
      const p = token === undefined ? undefined : this.progress.get(token);
      if (p) {
        this.extendDeadline(p);
        target = p.stream.mode === 'json' ? undefined : p.stream;
      }
    }
    this.deliver(target ?? this.unsolicitedTarget(), line, false);
  }

  private unsolicitedTarget(): OutStream {
    if (this.getStream.sink?.open) return this.getStream;
    const newest = this.newestSse;
    if (newest && newest.open > 0 && newest.sink?.open) return newest;
    let found: OutStream | undefined;
    for (const s of this.streams.values()) if (s.mode === 'sse' && s.sink?.open) found = s;
    return found ?? this.getStream;
  }

  private deliver(stream: OutStream, line: Buffer, isResponse: boolean): void {
    if (stream.mode === 'json') {
      stream.json.push(line);
    } else {
      const now = this.ctx.clock.now();
      let id: string | undefined;
      if (stream.resumable && this.store) {
        const seq = ++stream.seq;
        id = formatEventId(stream.no, seq);
        this.store.append(stream.no, seq, Buffer.from(line));
      }
      if (stream.sink?.open) stream.sink.writeMessage(line, id, now);
      else if (stream === this.getStream) {
        const maxBytes = this.ctx.maxStreamQueueBytes;
        while (
          this.getBacklog.length > 0 &&
          (this.getBacklog.length >= GET_BACKLOG_MAX || this.getBacklogBytes + line.length > maxBytes)
        ) {
          this.getBacklogBytes -= this.getBacklog.shift()!.data.length;
          this.ctx.logger.warn('GET stream backlog full, oldest message dropped', { session: this.id });
        }
        this.getBacklog.push({ id, data: Buffer.from(line) });
        this.getBacklogBytes += line.length;
      } else if (!stream.resumable) {
        this.ctx.logger.debug('message for a disconnected stream dropped', {
          session: this.id,
          stream: stream.no,
        });
      }
    }
    if (isResponse && --stream.open <= 0) this.endStream(stream);
  }

  private clearGetBacklog(): void {
    this.getBacklog = [];
    this.getBacklogBytes = 0;
  }

  private endStream(stream: OutStream): void {
    this.streams.delete(stream.no);
    if (this.newestSse === stream) this.newestSse = undefined;
    if (stream.mode === 'json') {
      const resolve = stream.resolveJson;
      if (!resolve) return;
      stream.resolveJson = undefined;
      const headers = { 'content-type': 'application/json', 'mcp-session-id': this.id };
      const parts = stream.json;
      if (parts.length === 0) resolve({ status: 202, headers: { 'mcp-session-id': this.id } });
      else if (!stream.batch && parts.length === 1) resolve({ status: 200, headers, body: parts[0] });
      else {
        const body = Buffer.concat([
          Buffer.from('['),
          ...parts.flatMap((p, i) => (i ? [COMMA, p] : [p])),
          Buffer.from(']'),
        ]);
        resolve({ status: 200, headers, body });
      }
      return;
    }
    stream.sink?.close();
    stream.sink = null;
  }

  /** Tells `observer` of a response; its failure is the observer's, never the session's. */
  private notify(observer: ResponseObserver, msg: Record<string, unknown>): void {
    try {
      observer.onResponse(msg);
    } catch (err) {
      this.ctx.logger.error('response observer failed', {
        session: this.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** The client closed `sink` (disconnected): the stream waits for a new connection, if any. */
  private detach(stream: OutStream, sink: SseSink): void {
    if (stream.sink !== sink) return;
    stream.sink = null;
    this.ctx.logger.debug('client disconnected from stream', { session: this.id, stream: stream.no });
  }

  /**
   * Progress is a sign of life: the request's deadline moves to
   * `requestTimeoutMs` from now, but never past `maxRequestTimeoutMs` after
   * it was sent. `initialize` keeps its own deadline.
   */
  private extendDeadline(p: Pending): void {
    const timeout = this.ctx.requestTimeoutMs;
    if (timeout === 0 || p.method === 'initialize') return;
    const latest = p.started + Math.max(timeout, this.ctx.maxRequestTimeoutMs);
    p.deadline = Math.max(p.deadline, Math.min(this.ctx.clock.now() + timeout, latest));
  }

  private initializeAnswered(msg: Record<string, unknown>): void {
    const result = msg.result as { protocolVersion?: unknown } | undefined;
    if (msg.result !== undefined) this.initialized = true;
    if (typeof result?.protocolVersion === 'string') {
      this.protocolVersion = result.protocolVersion;
      this.getStream.resumable = !!this.store && supportsPrimingEvents(result.protocolVersion);
    } else if (msg.error !== undefined) {
      // The child refused to initialize: the session is of no use.
      queueMicrotask(() => void this.close('initialize failed', 'Session ended: initialize failed'));
    }
  }

  private clientCancelled(msg: Record<string, unknown>): void {
    const requestId = (msg.params as { requestId?: JsonRpcId } | undefined)?.requestId;
    if (requestId === undefined) return;
    const p = this.pending.get(requestId);
    if (!p) return;
    // The child will not answer a cancelled request (MCP cancellation): stop waiting for it.
    this.pending.delete(requestId);
    if (p.token !== undefined) this.progress.delete(p.token);
    if (p.method === 'initialize') this.ctx.onInitializeSettled(this);
    if (--p.stream.open <= 0) this.endStream(p.stream);
  }

  /**
   * A request reached its deadline: the client gets `-32001`, the child
   * `notifications/cancelled` (MCP cancellation) with the same reason. An
   * `initialize` is not cancelled (MCP forbids it): its session ends instead.
   */
  private timeOut(p: Pending): void {
    this.pending.delete(p.id);
    if (p.token !== undefined) this.progress.delete(p.token);
    this.ctx.metrics.timeouts++;
    const waited = p.deadline - p.started;
    const isInitialize = p.method === 'initialize';
    const reason = `${isInitialize ? 'Initialize' : 'Request'} timed out after ${waited} ms`;
    this.ctx.logger.warn('request timed out', { session: this.id, id: p.id, method: p.method, waited });
    if (!isInitialize) {
      void this.child.write(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: p.id, reason },
        }),
      );
    }
    this.deliver(p.stream, Buffer.from(jsonRpcErrorBody(p.id, JsonRpcCode.RequestTimeout, reason)), true);
    if (isInitialize) {
      this.ctx.onInitializeSettled(this);
      this.initializeTimedOut();
    }
  }

  /** The child never answered `initialize` in time: the session (and its slot) goes. */
  private initializeTimedOut(): void {
    if (this.closed) return;
    this.ctx.metrics.uninitializedReaped++;
    void this.close('initialize timed out', 'Session ended: initialize timed out');
  }

  private childExited(exit: ChildExit): void {
    if (this.closed) return;
    this.ctx.metrics.crashes++;
    this.ctx.logger.warn('child exited', {
      session: this.id,
      pid: this.child.pid,
      code: exit.code,
      signal: exit.signal,
      error: exit.error,
    });
    void this.close('child exited', `MCP server process exited (${describeExit(exit)})`);
  }

  private skip(line: Buffer): void {
    this.ctx.metrics.stdoutSkipped++;
    this.ctx.logger.warn('non-JSON-RPC stdout line skipped', {
      session: this.id,
      pid: this.child.pid,
      bytes: line.length,
      start: line.subarray(0, 120).toString('utf8'),
    });
  }
}

const COMMA = Buffer.from(',');
