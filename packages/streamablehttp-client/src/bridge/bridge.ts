import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { LineSplitter } from '@mcp-gateway/internal/line-splitter';
import { AuthError, ClientError, JSONRPC_ERRORS } from '../errors.js';
import {
  abortedWith,
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  requestDeadline,
  withinDeadline,
  withRequestDeadline,
} from '../http/deadline.js';
import type { FetchLike } from '../http/fetch.js';
import { toClientError } from '../http/mcp-errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Implementation } from '../protocol/client.js';
import { defaultEraCache, type EraCache } from '../protocol/era.js';
import { revealsModern } from '../protocol/era-errors.js';
import type { ProtocolPreference } from '../protocol/versions.js';
import { capServerMessages, isTooLarge } from './message-cap.js';
import { modernBridgeFor, type ModernBridge } from './modern-bridge.js';
import { MAX_MESSAGE_BYTES } from '../protocol/wire.js';
import { parseErrorLine, readHostLine } from './host-input.js';
import { isRequest, isResponse, keyOf, PendingAnswers, type PendingRequest } from './pending.js';
import { StandaloneStream } from './standalone-stream.js';
import { fromModernHost, upstreamErrorOf } from './upstream-error.js';
import { streamEndOf, watchStreams } from './stream-watch.js';

/** Options of {@link StdioBridge}. */
export interface BridgeOptions {
  /** The remote MCP endpoint. */
  url: URL;
  /**
   * Fetch used for every HTTP request (usually {@link createAuthFetch}'s). Build
   * it on {@link withRequestDeadline} (as the CLI does) so the request deadline
   * times each HTTP request and not a sign-in between them; otherwise the
   * deadline is applied around it.
   */
  fetch?: FetchLike;
  /** JSON-RPC from the host, one message per line. Default `process.stdin`. */
  input?: Readable;
  /** JSON-RPC to the host, one message per line. Default `process.stdout`. */
  output?: Writable;
  logger?: Logger;
  /**
   * Deadline of the re-initialize after a 404 (the replayed `initialize`, its
   * answer included, and `notifications/initialized`): past it, the request
   * that met the 404 is answered `-32000` (`data.code` `timeout`). An OAuth
   * sign-in during it is not timed. Default `requestTimeoutMs`.
   */
  reinitializeTimeoutMs?: number;
  /**
   * How long messages after `notifications/initialized` wait for the
   * standalone GET stream to be answered. Default 5 s.
   */
  standaloneStreamTimeoutMs?: number;
  /**
   * Which MCP era to speak upstream: `auto` (default) probes with
   * `server/discover` and bridges to a 2026-07-28 server without a session,
   * else as 2025; a revision pins it.
   */
  protocol?: ProtocolPreference;
  /** Who the bridge is in the probe's `_meta` (later requests carry the host's `clientInfo`). */
  clientInfo?: Implementation;
  /** Era decisions per server URL. Default: the process-wide cache. */
  eraCache?: EraCache;
  /**
   * Largest message (bytes) read from the host (one line): a longer line is
   * dropped and answered `-32700` (id `null`). On the MCP 2025 path, also the
   * largest JSON answer or single SSE event read from the server: the requests
   * it answers get a `-32000` error (`data.code` `too_large`). Default 16 MiB.
   */
  maxMessageBytes?: number;
  /**
   * Deadline of each request to the server: its response headers must arrive
   * within it, else the request is answered `-32000` (`data.code` `timeout`).
   * A streamed (SSE) answer is not cut once its headers are in. Default 60 s.
   */
  requestTimeoutMs?: number;
  /** Deadline of the startup probe (`server/discover`). Default 15 s, or `requestTimeoutMs` if shorter. */
  probeTimeoutMs?: number;
  /**
   * 2026-07-28 servers: how long the host may take to answer one input
   * request (`elicitation/create`, `sampling/createMessage`, `roots/list`) the
   * bridge asks it for an `input_required` round; past it the host gets
   * `notifications/cancelled` for it and the request fails. Default 10 minutes.
   */
  inputTimeoutMs?: number;
}

const REINIT_ID_PREFIX = 'mcp-streamablehttp-client-reinitialize-';

/**
 * How the SDK transport resumes a cut SSE stream (its defaults, spelled out
 * because the bridge gives up on a request after `maxRetries` failed resumes,
 * as the transport does). A server's `retry:` field overrides the delays.
 */
const RECONNECTION = {
  initialReconnectionDelay: 1000,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 2,
} as const;

/**
 * stdio ⇄ Streamable HTTP. Lines from the host are JSON-RPC messages sent to
 * the server with the MCP SDK's `StreamableHTTPClientTransport` (POST with
 * JSON or SSE answers, the GET stream, `MCP-Protocol-Version`, SSE resume
 * with `Last-Event-ID`, `DELETE` on exit). What the server sends goes to
 * stdout. When the server forgets the session (404), the bridge replays the
 * host's `initialize` on a fresh session and retries the request once. Every
 * host request gets exactly one answer; notifications get none. When an
 * answer can no longer come (its SSE stream ended without an event id to
 * resume from, the resume failed, or the server answered with 202 or JSON
 * without the response), the request gets a `-32000` error at once
 * (`data.code`: `stream_ended`, `resume_failed`, `no_answer`).
 */
export class StdioBridge {
  private readonly opts: BridgeOptions;
  private readonly log: Logger;
  private readonly output: Writable;
  private transport!: StreamableHTTPClientTransport;
  private generation = 0;
  /** Host requests awaiting their answer, and what becomes of their answer streams. */
  private readonly answers: PendingAnswers;
  /** Host requests awaiting their answer, by id. */
  private readonly pending: Map<string, PendingRequest>;
  private readonly internal = new Map<string, (m: JSONRPCMessage) => void>();
  private initialize: JSONRPCRequest | undefined;
  private initializeKey: string | undefined;
  private initializedNotified = false;
  /** Messages wait for this before going out: the first `initialize`, or a re-initialize. */
  private gate: Promise<void> = Promise.resolve();
  private reinitializing: { generation: number; done: Promise<void> } | undefined;
  private reinitCount = 0;
  private closed = false;
  /** Marks this bridge's stream-end markers (a server cannot forge one). */
  private readonly nonce = randomUUID();
  private readonly fetch: FetchLike;
  /** The caller's fetch with the request deadline ({@link deadlineMs}). */
  private readonly upstream: FetchLike;
  /** The deadline of the next request: the probe's until the probe is over, then `requestTimeoutMs`. */
  private deadlineMs: number;
  /** Waiters for the next standalone GET stream's answer. */
  private readonly standalone: StandaloneStream;
  /** Set when the server speaks 2026-07-28: it then handles everything the host sends. */
  private modern: ModernBridge | undefined;
  /**
   * The startup probe's authorization failure (a sign-in the user refused, say):
   * the host's first request is answered with it, not with a second sign-in
   * nobody asked for; a later request (the host trying again) probes anew.
   */
  private startupAuthFailure: AuthError | undefined;
  /** Whether the era is known (`modern` set, or the 2025 transport started). */
  private decided = false;
  /**
   * Host messages held while the era is unknown (a probe that could not tell),
   * in order: each probes again first. Later messages queue behind them.
   */
  private held: Promise<void> = Promise.resolve();
  private heldCount = 0;
  /** Aborts the probe in flight when the bridge closes. */
  private readonly probing = new AbortController();

  constructor(opts: BridgeOptions) {
    this.opts = opts;
    this.log = opts.logger ?? silentLogger;
    this.output = opts.output ?? process.stdout;
    this.answers = new PendingAnswers({
      url: opts.url,
      log: this.log,
      answerError: (id, code, message, data) => this.answerError(id, code, message, data),
      closed: () => this.closed,
      maxResumeFailures: RECONNECTION.maxRetries,
    });
    this.pending = this.answers.requests;
    this.standalone = new StandaloneStream(this.log, opts.standaloneStreamTimeoutMs ?? 5000);
    const requestMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deadlineMs = Math.min(opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, requestMs);
    this.upstream = requestDeadline(
      opts.fetch ?? withRequestDeadline((input, init) => fetch(input, init)),
      () => this.deadlineMs,
    );
    const capped = capServerMessages(this.upstream, opts.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    this.fetch = watchStreams(capped, this.nonce, {
      posted: (ids, stream, kind) => this.answers.posted(ids, stream, kind),
      cut: (stream, err) => {
        this.log.warn('answer stream cut', {
          stream,
          error: err instanceof Error ? err.message : String(err),
        });
        // Resuming would send the same event again: its requests are answered now.
        if (isTooLarge(err)) this.answers.streamFailed(stream, err);
      },
      resumed: (lastEventId, outcome, detail) => this.answers.resumed(lastEventId, outcome, detail),
      standalone: (outcome, detail) => {
        this.log.debug('standalone GET stream answered', { outcome, detail });
        this.standalone.answered();
      },
    });
  }

  private async newTransport(): Promise<void> {
    const generation = ++this.generation;
    const t = new StreamableHTTPClientTransport(this.opts.url, {
      fetch: this.fetch,
      reconnectionOptions: { ...RECONNECTION },
    });
    t.onmessage = (m) => this.fromServer(m, generation);
    t.onerror = (err) => {
      if (this.closed || generation !== this.generation) return;
      const e = toClientError(err, this.opts.url.href);
      this.log.warn('upstream stream error', { error: e.message });
    };
    await t.start();
    this.transport = t;
  }

  private write(m: JSONRPCMessage): void {
    this.output.write(JSON.stringify(m) + '\n');
  }

  private answerError(id: RequestId | null, code: number, message: string, data?: unknown): void {
    if (id !== null) {
      const key = keyOf(id);
      if (!this.pending.has(key)) return;
      this.pending.delete(key);
    }
    const error: { code: number; message: string; data?: unknown } = { code, message };
    if (data !== undefined) error.data = data;
    this.output.write(JSON.stringify({ jsonrpc: '2.0', id, error }) + '\n');
  }

  private fromServer(m: JSONRPCMessage, generation: number): void {
    const ended = streamEndOf(m, this.nonce);
    if (ended !== undefined) {
      if (!this.closed) this.answers.streamEnded(ended);
      return;
    }
    if (isResponse(m)) {
      const key = keyOf(m.id);
      const waiter = this.internal.get(key);
      if (waiter) {
        this.internal.delete(key);
        waiter(m);
        return;
      }
      if (!this.pending.delete(key)) {
        this.log.warn('dropping a response to no pending request', { id: m.id, generation });
        return;
      }
      if (key === this.initializeKey && 'result' in m) {
        const version = (m.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') this.transport.setProtocolVersion(version);
      }
    }
    this.write(m);
  }

  private fromHost(line: string): void {
    readHostLine(
      line,
      (m) => this.route(m),
      (text) => this.output.write(text),
      this.log,
    );
  }

  /** A host message to the bridge of the server's era; held (in order) while the era is unknown. */
  private route(m: JSONRPCMessage): void {
    if (this.decided && this.heldCount === 0) return this.deliver(m);
    this.heldCount++;
    this.held = this.held.then(() => this.decideFor(m)).finally(() => void this.heldCount--);
  }

  private deliver(m: JSONRPCMessage): void {
    if (this.modern) this.modern.handle(m);
    else void this.dispatch(m);
  }

  /**
   * A host message while the era is unknown: a request probes again; when the
   * probe still cannot tell, it is answered with its error (nothing is
   * remembered, the next request probes again). A notification (or a stray
   * response) is dropped without probing: it could start a sign-in only to
   * be dropped anyway.
   */
  private async decideFor(m: JSONRPCMessage): Promise<void> {
    if (!this.decided) {
      if (!isRequest(m)) {
        this.log.debug('dropping a host notification: the server era is not known', {
          method: 'method' in m ? m.method : undefined,
        });
        return;
      }
      const told = this.startupAuthFailure;
      if (told) this.startupAuthFailure = undefined;
      const failure = told ?? (await this.decide());
      if (failure !== undefined) {
        if (this.closed) return;
        const { error, cause } = upstreamErrorOf(failure, this.opts.url.href, fromModernHost(m.params));
        this.log.error('upstream request failed', { method: m.method, error: cause.message });
        this.output.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, error }) + '\n');
        return;
      }
    }
    if (!this.closed) this.deliver(m);
  }

  /**
   * The era decision ({@link modernBridgeFor}, with the probe's deadline);
   * starts the 2025 transport when it is 2025. Resolves with what the probe
   * failed with when it could not tell.
   */
  private async decide(): Promise<unknown> {
    const requestMs = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deadlineMs = Math.min(this.opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, requestMs);
    try {
      this.modern = await modernBridgeFor({
        url: this.opts.url,
        fetch: this.upstream,
        output: this.output,
        logger: this.log,
        protocol: this.opts.protocol ?? 'auto',
        clientInfo: this.opts.clientInfo ?? { name: 'mcp-streamablehttp-client', version: '0' },
        eraCache: this.eraCache,
        signal: this.probing.signal,
        ...(this.opts.inputTimeoutMs !== undefined ? { inputTimeoutMs: this.opts.inputTimeoutMs } : {}),
      });
    } catch (err) {
      if (!this.closed)
        this.log.warn("could not tell the server's MCP era; probing again at the host's next message", {
          error: toClientError(err, this.opts.url.href).message,
        });
      return err;
    } finally {
      this.deadlineMs = requestMs;
    }
    if (this.closed) {
      // close() ran during the probe.
      this.modern?.close();
      return undefined;
    }
    if (!this.modern) await this.newTransport();
    this.decided = true;
    return undefined;
  }

  private get eraCache(): EraCache {
    return this.opts.eraCache ?? defaultEraCache;
  }

  private async dispatch(m: JSONRPCMessage): Promise<void> {
    if (isRequest(m)) {
      const key = keyOf(m.id);
      if (this.pending.has(key)) {
        this.log.warn('host reused the id of a pending request', { id: m.id });
      }
      this.pending.set(key, {
        method: m.method,
        generation: this.generation,
        sending: true,
        resumeFailures: 0,
      });
      if (m.method === 'initialize') {
        this.initialize = m;
        this.initializeKey = key;
        const before = this.gate;
        const sent = before.then(() => this.send(m));
        this.gate = sent.then(() => undefined).catch(() => undefined);
        await sent;
        return;
      }
    } else if ('method' in m && m.method === 'notifications/initialized') {
      this.initializedNotified = true;
      const opened = this.standalone.next();
      const sent = opened.watch.run(() =>
        this.gate.then(async () => {
          if (await this.send(m)) await opened.done;
          opened.cancel();
        }),
      );
      this.gate = sent.catch(() => undefined);
      await sent;
      return;
    }
    await this.gate;
    await this.send(m);
  }

  /** Sends `m`; true when the server took it (answers to requests come later). */
  private async send(m: JSONRPCMessage, retried = false): Promise<boolean> {
    const generation = this.generation;
    const key = isRequest(m) ? keyOf(m.id) : undefined;
    const entry = key ? this.pending.get(key) : undefined;
    if (entry) {
      entry.generation = generation;
      entry.sending = true;
      delete entry.stream;
      delete entry.answerKind;
      delete entry.lastEventId;
    }
    try {
      await this.transport.send(
        m,
        entry
          ? {
              onresumptiontoken: (token) => {
                entry.lastEventId = token;
              },
            }
          : undefined,
      );
      if (entry) this.answers.sent(key!, entry);
      return true;
    } catch (err) {
      const isInitialize = isRequest(m) && m.method === 'initialize';
      const sessionGone =
        err instanceof StreamableHTTPError &&
        err.code === 404 &&
        this.initialize !== undefined &&
        !isInitialize;
      // A send cut off because another request already replaced the lost session.
      const replacedUnderUs = generation !== this.generation && !isInitialize;
      if (replacedUnderUs && !sessionGone && !retried && !this.closed) {
        await this.gate;
        return this.send(m, true);
      }
      if (sessionGone && !retried && !this.closed) {
        try {
          await this.reinitialize(generation);
        } catch (reinitErr) {
          this.fail(m, reinitErr);
          return false;
        }
        return this.send(m, true);
      }
      this.fail(m, err);
      return false;
    }
  }

  private fail(m: JSONRPCMessage, err: unknown): void {
    const { error, cause } = upstreamErrorOf(err, this.opts.url.href);
    const method = 'method' in m ? m.method : 'response';
    this.log.error('upstream request failed', { method, error: cause.message, errorCode: cause.code });
    if (isRequest(m) && m.method === 'initialize' && revealsModern(err)) {
      // Refused as only a 2026-07-28 server refuses it: the remembered 2025 decision was wrong.
      this.eraCache.delete(this.opts.url);
      this.log.warn('the server refused initialize as a 2026-07-28 server does; restart the bridge');
    }
    if (isRequest(m)) this.answerError(m.id, error.code, error.message, error.data);
  }

  /**
   * Starts a fresh session after a 404: replays the host's `initialize` (and
   * `notifications/initialized`), without forwarding the replay's answer,
   * within the request deadline (time in an OAuth sign-in not counted).
   * Concurrent callers for the same lost session share one replay.
   */
  private reinitialize(lostGeneration: number): Promise<void> {
    if (lostGeneration !== this.generation) return this.reinitializing?.done ?? Promise.resolve();
    if (this.reinitializing?.generation === lostGeneration) return this.reinitializing.done;
    const done = (async () => {
      this.log.info('session lost (HTTP 404); re-initializing', { generation: lostGeneration });
      const old = this.transport;
      await this.newTransport();
      void old.close().catch(() => undefined);
      const ms = this.opts.reinitializeTimeoutMs ?? this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      await withinDeadline(this.opts.url.href, ms, 'did not answer the replayed initialize', (signal) =>
        this.replayInitialize(signal),
      );
      // Requests whose answers were streaming on the lost session will never get one: say so once.
      for (const [key, p] of this.pending) {
        if (p.generation <= lostGeneration && !p.sending) {
          this.answerError(
            JSON.parse(key) as RequestId,
            JSONRPC_ERRORS.upstreamError,
            'the upstream session was lost before the answer arrived; retry the request',
          );
        }
      }
      this.log.info('re-initialized', { generation: this.generation });
    })();
    this.reinitializing = { generation: lostGeneration, done };
    this.gate = done.catch(() => undefined);
    return done;
  }

  /**
   * Sends the host's `initialize` (under an id of its own) and, if the host
   * sent it, `notifications/initialized`; gives up when `signal` aborts.
   */
  private async replayInitialize(signal: AbortSignal): Promise<void> {
    const transport = this.transport;
    const id = `${REINIT_ID_PREFIX}${++this.reinitCount}`;
    const key = keyOf(id);
    const aborted = abortedWith(signal);
    const answer = new Promise<JSONRPCMessage>((resolve) => this.internal.set(key, resolve));
    try {
      await Promise.race([transport.send({ ...this.initialize!, id }), aborted]);
      const reply = await Promise.race([answer, aborted]);
      if (!('result' in reply)) {
        throw new ClientError('server', 'reinitialize_failed', 'the server refused the replayed initialize');
      }
      const version = (reply.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') transport.setProtocolVersion(version);
      if (this.initializedNotified)
        await Promise.race([
          transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
          aborted,
        ]);
    } finally {
      // An answer past the deadline is dropped.
      this.internal.delete(key);
    }
  }

  /**
   * Runs until the host closes stdin, then ends the session (`DELETE`).
   * Resolves when everything is closed.
   */
  async run(): Promise<void> {
    // The host's lines written during the probe wait unread in `input` and are handled in order after it.
    const failure = await this.decide();
    if (this.closed) return;
    const refused = failure === undefined ? undefined : toClientError(failure, this.opts.url.href);
    if (refused instanceof AuthError) {
      this.log.warn('authorization failed at startup; answering the host with it', {
        error: refused.message,
        errorCode: refused.code,
      });
      this.startupAuthFailure = refused;
    }
    await this.readHost(this.opts.input ?? process.stdin);
    await this.close();
  }

  /** Reads the host's lines until its stream ends; an over-long line is answered `-32700` and skipped. */
  private async readHost(input: Readable): Promise<void> {
    const max = this.opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const lines = new LineSplitter(
      max,
      (line) => this.fromHost(line.toString('utf8')),
      (bytes) => {
        this.log.warn('dropping a host message longer than the limit', { bytes, limit: max });
        this.output.write(parseErrorLine(`Parse error: message longer than ${max} bytes`));
      },
    );
    const onData = (chunk: Buffer | string) =>
      lines.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    input.on('data', onData);
    await new Promise<void>((resolve) => {
      const done = () => {
        input.off('end', done).off('close', done).off('error', done);
        resolve();
      };
      input.once('end', done).once('close', done).once('error', done);
    });
    input.off('data', onData);
    lines.end();
  }

  /** Ends the session: `DELETE` to the server, then closes streams. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.probing.abort();
    if (this.modern) return this.modern.close();
    // Closed during the startup probe: no session was started yet.
    const transport = this.transport as StreamableHTTPClientTransport | undefined;
    if (!transport) return;
    try {
      await transport.terminateSession();
    } catch (err) {
      this.log.debug('session DELETE failed', { error: toClientError(err, this.opts.url.href).message });
    }
    await transport.close().catch(() => undefined);
  }
}
