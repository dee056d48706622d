import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error-codes';
import { ServerError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';
import { silentLogger, type Logger } from '../log.js';
import {
  asInputRequests,
  DEFAULT_STATE_RETRY,
  describeInputs,
  RoundKeeper,
  type InputRequest,
  type StateRetry,
} from './rounds.js';
import { isLocalError, localError } from './local-errors.js';
import { ToolCache } from './tool-cache.js';
import { paramHeaders, toolHeaders, type ToolHeaderMap } from './tool-headers.js';
import { META_KEYS, MODERN_ERRORS, MODERN_VERSION, pickModernVersion } from './versions.js';
import { revealsLegacy } from './era-errors.js';
import { exchange, postRequest, type Id, type RpcAnswer, type RpcNotification } from './wire.js';

/** Name and version of a client or server (`Implementation`). */
export interface Implementation {
  name: string;
  version: string;
  [key: string]: unknown;
}

/** What `server/discover` told (SEP-2575). */
export interface DiscoverResult {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  serverInfo?: Implementation;
  instructions?: string;
}

export type { InputRequest, StateRetry } from './rounds.js';
export { MAX_INPUT_ROUNDS, MAX_INPUT_REQUESTS } from './rounds.js';

/**
 * Answers the input requests of one round (key → result), e.g. by asking the
 * stdio host. `signal` aborts when the request is abandoned (cancelled by its
 * caller): the fulfiller should then withdraw what it asked and reject.
 */
export type InputFulfiller = (
  requests: Record<string, InputRequest>,
  signal?: AbortSignal,
) => Promise<Record<string, unknown>>;

/** Options of {@link ModernClient}. */
export interface ModernClientOptions {
  url: URL;
  fetch: FetchLike;
  clientInfo: Implementation;
  /** Declared in every request's `_meta`. Default `{}`. */
  capabilities?: Record<string, unknown>;
  /** The revision to speak. Default {@link MODERN_VERSION}. */
  version?: string;
  logger?: Logger;
  /**
   * Called when an answer says the server may be a 2025 one after all (see
   * {@link revealsLegacy}); `openConnection` and the bridge forget their
   * remembered era then, so the next connection probes again.
   */
  onLegacySign?: () => void;
  /** Pacing of `input_required` rounds that carry only `requestState`. Default {@link DEFAULT_STATE_RETRY}. */
  stateRetry?: Partial<StateRetry>;
}

/** Per-call options of {@link ModernClient.call}. */
export interface CallOptions {
  signal?: AbortSignal;
  onNotification?: (n: RpcNotification) => void;
  /** Answers `input_required` rounds; without it such a result is a `input_required` {@link ServerError}. */
  fulfil?: InputFulfiller;
  /**
   * The request comes from a 2026-07-28 client (a stdio host that sent its
   * own envelope): its `clientCapabilities`, `clientInfo` and `logLevel` are
   * kept, and `input_required` results are returned to it as they are.
   */
  asIs?: boolean;
}

/** Most `tools/list` pages read to learn a tool's `x-mcp-header` declarations. */
const MAX_TOOL_PAGES = 20;

/**
 * The result types this client understands (MCP 2026-07-28 basic/index "ResultType"): `complete`,
 * `input_required`, and none at all (servers of earlier revisions, read as `complete`).
 */
const KNOWN_RESULT_TYPES = new Set<string | undefined>([undefined, 'complete', 'input_required']);

/** An answer whose `resultType` this client does not know: invalid, as the revision requires. */
function unknownResultType(id: Id | null, status: number, resultType: unknown): RpcAnswer {
  return {
    id,
    status,
    error: localError(
      JSONRPC_ERROR_CODES.InternalError,
      `the server answered with a result of unknown resultType ${JSON.stringify(resultType)}`,
      'unknown_result_type',
      { resultType },
    ),
  };
}

/**
 * A 2026-07-28 client on the Streamable HTTP wire: no session; every request
 * is its own POST with the `_meta` envelope (version, capabilities, client
 * info, log level when set), the SEP-2243 headers, `Mcp-Param-*` headers for
 * tools' `x-mcp-header` arguments, one retry with a version the server lists
 * after -32022, and `input_required` rounds answered by a {@link InputFulfiller}
 * and retried with a new id, the `inputResponses` and the exact `requestState`.
 * JSON-RPC errors come back as answers, never thrown.
 */
export class ModernClient {
  readonly url: URL;
  version: string;
  capabilities: Record<string, unknown>;
  clientInfo: Implementation;
  /** `_meta` log level; unset means the server sends no log messages. */
  logLevel: string | undefined;
  private readonly fetch: FetchLike;
  private readonly log: Logger;
  private readonly onLegacySign: (() => void) | undefined;
  private readonly stateRetry: StateRetry;
  private nextId = 1;
  /** Tool name → its `Mcp-Param-*` declarations, or the reason it is excluded. */
  private readonly tools = new ToolCache();

  constructor(opts: ModernClientOptions) {
    this.url = opts.url;
    this.fetch = opts.fetch;
    this.clientInfo = opts.clientInfo;
    this.capabilities = opts.capabilities ?? {};
    this.version = opts.version ?? MODERN_VERSION;
    this.log = opts.logger ?? silentLogger;
    this.onLegacySign = opts.onLegacySign;
    this.stateRetry = { ...DEFAULT_STATE_RETRY, ...opts.stateRetry };
  }

  /** `params` with the request envelope in `_meta` (other `_meta` keys, e.g. a progress token, kept). */
  private envelope(params: Record<string, unknown>, asIs = false): Record<string, unknown> {
    const given = (params._meta as Record<string, unknown> | undefined) ?? {};
    const meta: Record<string, unknown> = {
      ...given,
      [META_KEYS.protocolVersion]: this.version,
      [META_KEYS.clientCapabilities]: this.capabilities,
      [META_KEYS.clientInfo]: this.clientInfo,
    };
    if (this.logLevel) meta[META_KEYS.logLevel] = this.logLevel;
    else delete meta[META_KEYS.logLevel];
    if (asIs)
      for (const key of [META_KEYS.clientCapabilities, META_KEYS.clientInfo, META_KEYS.logLevel])
        if (given[key] !== undefined) meta[key] = given[key];
    return { ...params, _meta: meta };
  }

  /** One request (a fresh id), retried once with a version the server lists when it answers -32022. */
  async send(
    method: string,
    params: Record<string, unknown> = {},
    opts: Omit<CallOptions, 'fulfil'> & { headers?: Record<string, string> } = {},
  ): Promise<RpcAnswer> {
    for (let attempt = 0; ; attempt++) {
      const id: Id = this.nextId++;
      const answer = await this.watched(
        postRequest(this.url, this.fetch, {
          id,
          method,
          params: this.envelope(params, opts.asIs),
          version: this.version,
          ...opts,
        }),
      );
      const supported = (answer.error?.data as { supported?: unknown } | undefined)?.supported;
      const next =
        answer.error?.code === MODERN_ERRORS.unsupportedProtocolVersion
          ? pickModernVersion(supported)
          : undefined;
      if (!next || attempt > 0) return answer;
      this.log.info('the server refused the protocol version; retrying with one it lists', {
        method,
        version: next,
      });
      this.version = next;
    }
  }

  /** `exchange`'s answer or failure, told to {@link ModernClientOptions.onLegacySign} when it hints at a 2025 server. */
  private async watched<T extends RpcAnswer | undefined>(exchanged: Promise<T>): Promise<T> {
    try {
      const answer = await exchanged;
      if (revealsLegacy(answer)) this.onLegacySign?.();
      return answer;
    } catch (err) {
      if (revealsLegacy(err)) this.onLegacySign?.();
      throw err;
    }
  }

  /**
   * `subscriptions/listen`: one long POST whose SSE stream carries the
   * notifications the filter opts into, until it ends or `signal` aborts.
   * Resolves with the server's answer when it gave one (an error, or a result
   * closing the subscription), else `undefined`.
   */
  listen(
    filter: Record<string, unknown>,
    signal: AbortSignal,
    onNotification: (n: RpcNotification) => void,
  ): Promise<RpcAnswer | undefined> {
    return this.watched(
      exchange(this.url, this.fetch, {
        id: this.nextId++,
        method: 'subscriptions/listen',
        params: this.envelope({ notifications: filter }),
        version: this.version,
        signal,
        onNotification: (n) => {
          if (n.method === 'notifications/tools/list_changed') this.forgetTools();
          onNotification(n);
        },
      }),
    );
  }

  /** `server/discover`; a JSON-RPC error is a {@link ServerError}. */
  async discover(): Promise<DiscoverResult> {
    const result = expectResult(await this.send('server/discover'), 'server/discover', this.url);
    return readDiscover(result);
  }

  /**
   * A request as a host means it: `tools/list` answers without the tools whose
   * `x-mcp-header` declarations are invalid (and remembers the others'),
   * `tools/call` carries `Mcp-Param-*` headers (a tool excluded for invalid
   * declarations is refused with -32602), and `input_required` rounds are
   * answered with `opts.fulfil` and retried.
   */
  async call(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<RpcAnswer> {
    const tool = method === 'tools/call' ? (typeof params.name === 'string' ? params.name : '') : undefined;
    let headers: Record<string, string> = {};
    if (tool !== undefined) {
      const map = await this.toolHeaderMap(tool, false, opts.signal);
      if (typeof map === 'string') return excludedTool(tool, map);
      headers = paramHeaders(map, params.arguments);
    }
    let current = params;
    let reread = false;
    const rounds = new RoundKeeper(this.url.href, this.stateRetry);
    // A sign-in that one of the rounds' requests waits for does not spend their state-retry budget.
    return rounds.clock.run(async () => {
      for (;;) {
        const answer = await this.send(method, current, { ...opts, headers });
        if (tool !== undefined && answer.error?.code === MODERN_ERRORS.headerMismatch && !reread) {
          // streamable-http "Client Behavior": on HeaderMismatch the client SHOULD call tools/list
          // to check for changes to the tool's inputSchema, then retry with the appropriate headers.
          reread = true;
          this.log.info('the server refused the Mcp-Param headers; reading tools/list again', { tool });
          const map = await this.toolHeaderMap(tool, true, opts.signal);
          if (typeof map === 'string') return excludedTool(tool, map);
          headers = paramHeaders(map, params.arguments);
          continue;
        }
        const result = answer.result;
        if (result && !opts.asIs && !KNOWN_RESULT_TYPES.has(result.resultType as string | undefined))
          return unknownResultType(answer.id, answer.status, result.resultType);
        if (result?.resultType !== 'input_required' || opts.asIs) {
          if (method === 'tools/list' && result) return { ...answer, result: this.learnTools(result) };
          return answer;
        }
        const requests = asInputRequests(result.inputRequests);
        const state = typeof result.requestState === 'string' ? result.requestState : undefined;
        const { inputResponses: _r, requestState: _s, ...base } = params;
        current = { ...base };
        if (Object.keys(requests).length) {
          rounds.inputRound(requests);
          if (!opts.fulfil)
            throw new ServerError(
              'input_required',
              `${this.url.href} needs input (${describeInputs(requests)}) that this command cannot give; use bridge mode with a host`,
            );
          current.inputResponses = await opts.fulfil(requests, opts.signal);
        } else if (state !== undefined) {
          // Nothing to ask: the server is not ready yet (mrtr "Client Requirements": the retry MAY be immediate).
          await rounds.stateRound(opts.signal);
        } else
          throw new ServerError(
            'input_required',
            `${this.url.href} answered ${method} with input_required carrying neither inputRequests nor requestState`,
          );
        if (state !== undefined) current.requestState = state;
      }
    });
  }

  /** {@link call}, where a JSON-RPC error is a {@link ServerError}. */
  async request(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}) {
    return expectResult(await this.call(method, params, opts), method, this.url);
  }

  /** Drops tools with invalid `x-mcp-header` declarations from a `tools/list` result; remembers the rest. */
  private learnTools(result: Record<string, unknown>): Record<string, unknown> {
    if (!Array.isArray(result.tools)) return result;
    const kept = result.tools.filter((tool: { name?: unknown; inputSchema?: unknown }) => {
      if (typeof tool?.name !== 'string') return false;
      const check = toolHeaders(tool.inputSchema);
      this.tools.set(tool.name, check.ok ? check.headers : check.reason);
      if (!check.ok)
        this.log.warn('excluding a tool with invalid x-mcp-header declarations', {
          tool: tool.name,
          reason: check.reason,
        });
      return check.ok;
    });
    return { ...result, tools: kept };
  }

  /**
   * A tool's declarations, reading `tools/list` (all pages, at most
   * {@link MAX_TOOL_PAGES}) when it was not seen yet, or `fresh`; unknown
   * tools have none, and within `UNKNOWN_TOOL_TTL_MS` of a read-through
   * an unknown tool does not make the client read the list again.
   */
  private async toolHeaderMap(
    name: string,
    fresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<ToolHeaderMap | string> {
    if (fresh) this.tools.delete(name);
    else {
      const known = this.tools.get(name);
      if (known !== undefined) return known;
      if (this.tools.listedRecently()) return [];
    }
    let cursor: string | undefined;
    for (let page = 0; this.tools.get(name) === undefined && page < MAX_TOOL_PAGES; page++) {
      const answer = await this.call('tools/list', cursor ? { cursor } : {}, signal ? { signal } : {});
      if (answer.error) break;
      const next = answer.result.nextCursor;
      if (typeof next !== 'string' || !next) {
        this.tools.listed();
        break;
      }
      cursor = next;
    }
    return this.tools.get(name) ?? [];
  }

  /** Forgets every tool's declarations: the server announced that its tools changed. */
  forgetTools(): void {
    this.tools.clear();
  }
}

/** The local refusal of a call to a tool excluded for invalid `x-mcp-header` declarations. */
function excludedTool(name: string, reason: string): RpcAnswer {
  return {
    id: null,
    status: 0,
    error: localError(
      JSONRPC_ERROR_CODES.InvalidParams,
      `tool "${name}" is excluded: ${reason}`,
      'excluded_tool',
      { tool: name },
    ),
  };
}

function expectResult(answer: RpcAnswer, method: string, url: URL): Record<string, unknown> {
  if (answer.error)
    throw new ServerError(
      `jsonrpc_${answer.error.code}`,
      isLocalError(answer.error)
        ? `${method} to ${url.href} refused by this client: ${answer.error.message} (${answer.error.code})`
        : `${url.href}: ${method} failed: ${answer.error.message} (${answer.error.code})`,
      {
        ...(answer.status >= 400 ? { status: answer.status } : {}),
      },
    );
  return answer.result;
}

/** Reads a `server/discover` result (serverInfo in `_meta`, or top-level as some servers send it). */
export function readDiscover(result: Record<string, unknown>): DiscoverResult {
  const meta = (result._meta as Record<string, unknown> | undefined) ?? {};
  const serverInfo = (meta[META_KEYS.serverInfo] ?? result.serverInfo) as Implementation | undefined;
  const out: DiscoverResult = {
    supportedVersions: Array.isArray(result.supportedVersions)
      ? result.supportedVersions.filter((v) => typeof v === 'string')
      : [],
    capabilities: (result.capabilities as Record<string, unknown> | undefined) ?? {},
  };
  if (serverInfo && typeof serverInfo === 'object') out.serverInfo = serverInfo;
  if (typeof result.instructions === 'string') out.instructions = result.instructions;
  return out;
}
