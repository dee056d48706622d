import type { Writable } from 'node:stream';
import { ServerError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';
import type { Logger } from '../log.js';
import {
  ModernClient,
  type DiscoverResult,
  type Implementation,
  type InputRequest,
} from '../protocol/client.js';
import { probeEra, type EraCache } from '../protocol/era.js';
import { errorForLegacyHost } from '../protocol/era-errors.js';
import {
  allowsModern,
  CAPABILITY_OF_INPUT,
  legacyVersionFor,
  MODERN_VERSION,
  type ProtocolPreference,
} from '../protocol/versions.js';
import type { Id, RpcAnswer } from '../protocol/wire.js';
import { HostQuestions } from './host-questions.js';
import { keepListening } from './listen-loop.js';
import { fromModernHost, upstreamErrorOf } from './upstream-error.js';

/** A JSON-RPC message from the host, already validated. */
type HostMessage = {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
};

/** Client capabilities a 2026-07-28 request may declare (the host's, filtered to these). */
const CLIENT_CAPABILITY_KEYS = ['roots', 'sampling', 'elicitation', 'experimental', 'extensions'];

/** Options of {@link ModernBridge}. */
export interface ModernBridgeOptions {
  client: ModernClient;
  discover: DiscoverResult;
  output: Writable;
  logger: Logger;
  /** How long the host may take to answer one input request. Default 10 minutes. */
  inputTimeoutMs?: number;
}

/**
 * Bridges a 2025 stdio host (it sends `initialize`, expects server→client
 * requests) to a 2026-07-28 server (no session): the host's `initialize` is
 * answered from `server/discover`; `ping` and `logging/setLevel` are answered
 * here (the level goes into every request's `_meta`); every other request is a
 * self-contained POST whose `input_required` rounds become ordinary
 * `sampling/createMessage` / `elicitation/create` / `roots/list` requests to
 * the host (only those it declared), retried with their results;
 * `resources/subscribe` and list changes go through `subscriptions/listen`;
 * `notifications/cancelled` aborts the request's POST. A 2026-07-28 host (its
 * requests carry their own `_meta` envelope) gets the server's answers as they
 * are, `input_required` included.
 */
export class ModernBridge {
  private readonly client: ModernClient;
  private readonly discover: DiscoverResult;
  private readonly output: Writable;
  private readonly log: Logger;
  private hostCapabilities: Record<string, unknown> = {};
  /** Host requests being served, by id: aborting one closes its POST. */
  private readonly inflight = new Map<string, AbortController>();
  /** Our requests to the host awaiting its answer. */
  private readonly questions: HostQuestions;
  private readonly subscribed = new Set<string>();
  private listening: AbortController | undefined;
  private closed = false;

  constructor(opts: ModernBridgeOptions) {
    this.client = opts.client;
    this.discover = opts.discover;
    this.output = opts.output;
    this.log = opts.logger;
    this.questions = new HostQuestions((m) => this.write(m), opts.inputTimeoutMs);
  }

  private write(m: unknown): void {
    if (!this.closed) this.output.write(JSON.stringify(m) + '\n');
  }

  /** One message from the host. */
  handle(m: HostMessage): void {
    if (m.method === undefined) {
      if (!this.questions.answer(m)) this.log.warn('dropping a response to no request of ours', { id: m.id });
      return;
    }
    if (m.id === undefined) return this.notification(m.method, m.params ?? {});
    void this.request(m.id, m.method, m.params ?? {});
  }

  private notification(method: string, params: Record<string, unknown>): void {
    if (method === 'notifications/initialized') this.relisten();
    else if (method === 'notifications/cancelled') {
      const id = params.requestId;
      this.inflight.get(JSON.stringify(id))?.abort();
    } else this.log.debug('host notification not forwarded (2026-07-28 has none of these)', { method });
  }

  private async request(id: Id, method: string, params: Record<string, unknown>): Promise<void> {
    const local = this.answerLocally(method, params);
    if (local) return this.write({ jsonrpc: '2.0', id, result: local });
    const key = JSON.stringify(id);
    const abort = new AbortController();
    this.inflight.set(key, abort);
    // A 2026-07-28 host sends its own envelope and answers input_required itself.
    const asIs = fromModernHost(params);
    try {
      const answer = await this.client.call(method, params, {
        signal: abort.signal,
        onNotification: (n) => this.write(n),
        ...(asIs ? { asIs } : { fulfil: (requests, signal) => this.askHost(requests, signal) }),
      });
      this.reply(id, asIs ? answer : forLegacyHost(method, answer));
    } catch (err) {
      if (abort.signal.aborted) return; // cancelled by the host: no answer (MCP cancellation)
      const { error, cause } = upstreamErrorOf(err, this.client.url.href, asIs);
      this.log.error('upstream request failed', { method, error: cause.message, errorCode: cause.code });
      this.write({ jsonrpc: '2.0', id, error });
    } finally {
      this.inflight.delete(key);
    }
  }

  private reply(id: Id, answer: RpcAnswer): void {
    if (answer.error) this.write({ jsonrpc: '2.0', id, error: answer.error });
    else this.write({ jsonrpc: '2.0', id, result: answer.result });
  }

  /** What the bridge answers itself: the 2025 handshake and session-scoped settings. */
  private answerLocally(
    method: string,
    params: Record<string, unknown>,
  ): Record<string, unknown> | undefined {
    switch (method) {
      case 'initialize':
        return this.initialize(params);
      case 'ping':
        return {};
      case 'logging/setLevel':
        this.client.logLevel = typeof params.level === 'string' ? params.level : undefined;
        return {};
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') {
          if (method === 'resources/subscribe') this.subscribed.add(params.uri);
          else this.subscribed.delete(params.uri);
          this.relisten();
        }
        return {};
      default:
        return undefined;
    }
  }

  private initialize(params: Record<string, unknown>): Record<string, unknown> {
    const caps = (params.capabilities as Record<string, unknown> | undefined) ?? {};
    this.hostCapabilities = Object.fromEntries(
      Object.entries(caps).filter(([k]) => CLIENT_CAPABILITY_KEYS.includes(k)),
    );
    this.client.capabilities = this.hostCapabilities;
    const info = params.clientInfo as Implementation | undefined;
    if (info && typeof info.name === 'string' && typeof info.version === 'string')
      this.client.clientInfo = info;
    const result: Record<string, unknown> = {
      protocolVersion: legacyVersionFor(params.protocolVersion),
      capabilities: this.discover.capabilities,
      serverInfo: this.discover.serverInfo ?? { name: this.client.url.host, version: '0' },
    };
    if (this.discover.instructions !== undefined) result.instructions = this.discover.instructions;
    return result;
  }

  /**
   * Asks the host one round of input requests (in parallel); refuses those it
   * did not declare. Questions left open when `signal` aborts or one fails are
   * withdrawn ({@link HostQuestions}).
   */
  private async askHost(
    requests: Record<string, InputRequest>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const missing = Object.values(requests).filter(
      (r) => !(CAPABILITY_OF_INPUT[r.method] && CAPABILITY_OF_INPUT[r.method]! in this.hostCapabilities),
    );
    if (missing.length)
      throw new ServerError(
        'input_not_supported',
        `${this.client.url.href} asked for ${missing.map((r) => r.method).join(', ')}, which the host did not declare`,
      );
    return this.questions.round(requests, signal);
  }

  /** The notifications the host can get: list changes the server announces, and subscribed resources. */
  private filter(): Record<string, unknown> | undefined {
    const caps = this.discover.capabilities as Record<
      string,
      { listChanged?: unknown; subscribe?: unknown } | undefined
    >;
    const filter: Record<string, unknown> = {};
    if (caps.tools?.listChanged) filter.toolsListChanged = true;
    if (caps.prompts?.listChanged) filter.promptsListChanged = true;
    if (caps.resources?.listChanged) filter.resourcesListChanged = true;
    if (caps.resources?.subscribe && this.subscribed.size)
      filter.resourceSubscriptions = [...this.subscribed];
    return Object.keys(filter).length ? filter : undefined;
  }

  /** (Re)opens `subscriptions/listen` with the current filter; reopens it when it ends, with backoff. */
  private relisten(): void {
    this.listening?.abort();
    this.listening = undefined;
    const filter = this.filter();
    if (!filter || this.closed) return;
    const abort = new AbortController();
    this.listening = abort;
    void keepListening(this.client, filter, abort.signal, (n) => this.write(n), this.log);
  }

  /** Stops listening and abandons requests in flight. */
  close(): void {
    this.closed = true;
    this.listening?.abort();
    for (const abort of this.inflight.values()) abort.abort();
  }
}

/** A 2026 answer as a 2025 host reads it ({@link errorForLegacyHost}). */
function forLegacyHost(method: string, answer: RpcAnswer): RpcAnswer {
  return answer.error ? { ...answer, error: errorForLegacyHost(method, answer.error) } : answer;
}

/** Options of {@link modernBridgeFor}. */
export interface ModernBridgeChoice {
  url: URL;
  fetch: FetchLike;
  output: Writable;
  logger: Logger;
  protocol: ProtocolPreference;
  clientInfo: Implementation;
  eraCache: EraCache;
  /** Aborts the probe (the bridge is closing). */
  signal?: AbortSignal;
  inputTimeoutMs?: number;
}

/**
 * The bridge's era decision: a {@link ModernBridge} when the server speaks
 * 2026-07-28 (probed with `server/discover`, or pinned with `--protocol`),
 * else `undefined` (the 2025 bridge: probed as 2025, remembered so, or
 * pinned). Throws when the probe cannot tell ({@link probeEra}: network,
 * authorization, a server failure): nothing is remembered then, and the
 * caller asks again later (after an authorization failure, a sign-in the
 * user refused, only at the host's next request after the one told).
 */
export async function modernBridgeFor(opts: ModernBridgeChoice): Promise<ModernBridge | undefined> {
  if (!allowsModern(opts.protocol)) return undefined;
  if (opts.protocol === 'auto' && opts.eraCache.get(opts.url) === 'legacy') return undefined;
  const client = new ModernClient({
    url: opts.url,
    fetch: opts.fetch,
    clientInfo: opts.clientInfo,
    logger: opts.logger,
    version: MODERN_VERSION,
    onLegacySign: () => opts.eraCache.delete(opts.url),
  });
  const decision = await probeEra(client, opts.logger, opts.signal);
  if (decision.era === 'legacy' && opts.protocol === 'auto') {
    opts.eraCache.set(opts.url, 'legacy');
    opts.logger.info('the server speaks MCP 2025 (session); bridging with initialize', {
      reason: decision.reason,
    });
    return undefined;
  }
  if (decision.era === 'modern') opts.eraCache.set(opts.url, 'modern');
  const discover =
    decision.era === 'modern' ? decision.discover : { supportedVersions: [], capabilities: {} };
  opts.logger.info('the server speaks MCP 2026-07-28; bridging without a session', {
    version: client.version,
  });
  return new ModernBridge({
    client,
    discover,
    output: opts.output,
    logger: opts.logger,
    ...(opts.inputTimeoutMs !== undefined ? { inputTimeoutMs: opts.inputTimeoutMs } : {}),
  });
}
