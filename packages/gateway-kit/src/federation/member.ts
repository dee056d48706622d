/**
 * One request from a federated endpoint to one member service: a synthetic
 * 2026-07-28 stateless request (SEP-2575 `_meta` envelope, SEP-2243 mirrored
 * headers) through the member's own `ServiceBackend.handle`, the same path
 * (limits, pools, deadlines) as a client's request to that service, under a
 * deadline of its own.
 */
import { knownBody } from '@mcp-gateway/internal/known-body';
import { responseHeader, unbuiltResponse } from '@mcp-gateway/internal/lazy-response';
import { encodeHeaderValue } from '@mcp-gateway/internal/mcp-header-value';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { resultText } from '@mcp-gateway/internal/result-text';
import { sseDataOf } from '@mcp-gateway/internal/sse-reader';
import { Ticker, type Ticking } from '@mcp-gateway/internal/ticker';
import { RELAYS_TO_2025_META } from '@mcp-gateway/streamablehttp-proxy';
import { JsonRpcCode } from '../errors.js';
import type { RequestInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { ResponseObserver } from '@mcp-gateway/streamablehttp-proxy';
import type { ServiceBackend } from '../services/backend.js';
import type { ServiceEntry } from '../services/registry.js';
import type { HopTracer } from '../telemetry/mcp-trace.js';
import { syntheticRequest } from './synthetic-request.js';

export { syntheticRequest } from './synthetic-request.js';

/** The protocol revision members are asked in (the gateway's backends all serve it). */
export const MEMBER_PROTOCOL_VERSION = '2026-07-28';

/** A JSON-RPC error object. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** A member's answer: its `result`, or an `error` (its own, or the gateway's when it failed or timed out). */
export type MemberReply =
  | {
      result: Record<string, unknown>;
      /**
       * `result` as the member's answer serialised it, when that is known: the caller's answer
       * can be written from it instead of serialising `result` again. It belongs to this reply
       * object: whatever changes a reply makes a new one (without it), never changes `result`.
       */
      resultText?: string;
    }
  | {
      error: RpcError;
      /**
       * True when the error is as its sender wrote it: a member's own answer (or a policy hook's
       * refusal), passed on to callers unchanged. Otherwise it is the endpoint's own (a member
       * that cannot be reached, fails, misses its deadline or opens no session), which a
       * 2026-07-28 caller gets in that revision's codes (`eras.ts`).
       */
      asSent?: true;
      /**
       * A policy hook's refusal (`FederationHooks.admitCall`): as its hook wrote it, except the
       * per-tool policy's `-32010`, which a 2026-07-28 caller gets as `-31010` (`eras.ts`).
       */
      byPolicy?: true;
    };

/** Methods whose name or URI the `Mcp-Name` header mirrors. */
const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** What a member request carries besides method and params. */
export interface MemberRequestOptions {
  identity: Identity;
  /** The caller's `_meta` envelope keys (2026 callers), kept except the protocol version. */
  meta?: Record<string, unknown> | undefined;
  /** Milliseconds before the request is abandoned with `-32001`. */
  timeoutMs: number;
  /** The edge's facts of the client's request (its lazy disconnect `signal`). */
  info?: RequestInfo | undefined;
  /** More headers (lower-case names): a tool call's `Mcp-Param-*` (`param-headers.ts`). */
  headers?: Record<string, string> | undefined;
  /** The member request's trace, when telemetry is on: the backend's hops are its children. */
  trace?: HopTracer | undefined;
}

/**
 * Sends `method` with `params` to `entry`'s backend and reads the one
 * JSON-RPC response (a JSON body, or the response event of an SSE stream).
 * Never throws: a backend that throws, answers garbage or misses the deadline
 * becomes an {@link RpcError}.
 */
export function memberRequest(
  entry: ServiceEntry,
  backend: ServiceBackend,
  method: string,
  params: Record<string, unknown>,
  opts: MemberRequestOptions,
): Promise<MemberReply> {
  // `params` may hold the caller's `_meta`: the member's own replaces it.
  const meta = memberMeta(entry.config.type === 'stdio' ? opts.meta : withoutBridgeHint(opts.meta));
  const message = { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MEMBER_PROTOCOL_VERSION,
    'mcp-method': method,
  };
  const nameKey = NAMED[method];
  if (nameKey && typeof params[nameKey] === 'string')
    headers['mcp-name'] = encodeHeaderValue(params[nameKey]);
  if (opts.headers) Object.assign(headers, opts.headers);
  return new Promise((resolve) => new MemberCall(entry, backend, message, opts, resolve).start(headers));
}

/** `meta` without the bridge's {@link RELAYS_TO_2025_META}, which only a `stdio` member (the gateway's bridge) reads. */
function withoutBridgeHint(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!meta || !(RELAYS_TO_2025_META in meta)) return meta;
  const { [RELAYS_TO_2025_META]: _hint, ...rest } = meta;
  return rest;
}

/**
 * The `_meta` of a member request: the caller's envelope keys with the member's revision. A
 * 2026-07-28 caller's own envelope (its revision and capabilities) is that already, and is
 * used as is (nothing here or behind it changes it).
 */
function memberMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const { protocolVersion, clientCapabilities } = MCP_META_KEYS;
  if (meta?.[protocolVersion] === MEMBER_PROTOCOL_VERSION && meta[clientCapabilities] !== undefined)
    return meta;
  return { [clientCapabilities]: {}, ...meta, [protocolVersion]: MEMBER_PROTOCOL_VERSION };
}

/** A member's reply, with the `Mcp-Session-Id` its answer carried (2025 `initialize`). */
export interface MemberExchange {
  reply: MemberReply;
  sessionId: string | null;
}

/**
 * The deadlines of member requests: one shared coarse timer (`@mcp-gateway/internal/ticker`),
 * so a deadline fires up to one tick (`TICK_MS`, 50 ms) late, and a request costs a set insert and
 * delete instead of a timer, a race and their closures.
 */
const deadlines = new Ticker({ now: () => Date.now() });

/**
 * One JSON-RPC message to `entry`'s backend with `headers`, under the
 * deadline: the reply (never thrown) and the answer's session id.
 */
export function memberExchange(
  entry: ServiceEntry,
  backend: ServiceBackend,
  message: Record<string, unknown>,
  headers: Record<string, string>,
  opts: ExchangeOptions,
): Promise<MemberExchange> {
  return new Promise((resolve) => {
    new MemberCall(entry, backend, message, opts, (reply, sessionId) => resolve({ reply, sessionId })).start(
      headers,
    );
  });
}

/** What {@link memberExchange} needs of {@link MemberRequestOptions}. */
type ExchangeOptions = Pick<MemberRequestOptions, 'identity' | 'timeoutMs' | 'info' | 'trace'> & {
  /** Reads the backend's answer first (a 2025 member's call stream); `undefined`: read as usual. */
  read?: ((res: Response) => MemberReply | undefined) | undefined;
};

/** The edge's facts a member's backend may read: the client's disconnect signal, nothing else (not its body). */
class ClientFacts {
  constructor(private readonly client: RequestInfo) {}

  get signal(): AbortSignal | undefined {
    return this.client.signal;
  }
}

/**
 * One member request in flight: sent on {@link start}, settled once with the
 * backend's reply, its failure, or the deadline's `-32001` (which aborts the
 * request's signal). Also the request's {@link ResponseObserver}: a backend that
 * parses its answers anyway hands the reply over as an object, and that
 * finite (non-SSE) answer's body (which says the same) is not read.
 * Per request: this object, the lazy request and the backend call; no timer.
 */
class MemberCall implements Ticking, ResponseObserver {
  /** The shared ticker's bookkeeping ({@link Ticking.tickerSlot}), declared so every call has one shape. */
  tickerSlot: number | undefined = undefined;
  private readonly deadline: number;
  private settled = false;
  private timedOut = false;
  /** Made only when a backend asks for the request's signal (the bridge rarely does). */
  private controller: AbortController | undefined;
  private observed: Readonly<Record<string, unknown>> | undefined;

  constructor(
    private readonly entry: ServiceEntry,
    private readonly backend: ServiceBackend,
    private readonly message: Record<string, unknown>,
    private readonly opts: ExchangeOptions,
    private readonly settle: (reply: MemberReply, sessionId: string | null) => void,
  ) {
    this.deadline = Date.now() + opts.timeoutMs;
  }

  start(headers: Record<string, string>): void {
    const { entry, backend, message, opts } = this;
    // A backend that reads `call.json` needs no text of it: serialised only when something asks.
    const body = backend.readsJson ? undefined : JSON.stringify(message);
    const text = body ?? (() => JSON.stringify(message));
    const request = syntheticRequest(entry.route.resource, headers, text, () => this.signal());
    // The client's disconnect reaches members through the edge's lazy `info.signal`, as on the direct path.
    const info = opts.info ? new ClientFacts(opts.info) : {};
    const observer = backend.observesResponses ? this : undefined;
    deadlines.add(this);
    let res: Promise<Response>;
    try {
      res = backend.handle(request, opts.identity, {
        body,
        json: message,
        info,
        observer,
        trace: opts.trace,
      });
    } catch (err) {
      return this.failed(err);
    }
    res.then(
      (r) => this.answered(r),
      (err: unknown) => this.failed(err),
    );
  }

  /** The shared timer: past the deadline, the request is abandoned and its signal aborted. */
  tick(now: number): void {
    if (now < this.deadline || this.settled) return;
    this.timedOut = true;
    this.controller?.abort();
    const seconds = Math.round(this.opts.timeoutMs / 100) / 10;
    const message = `service "${this.entry.name}" did not answer within ${seconds}s`;
    this.finish(failure(JsonRpcCode.BackendTimeout, message), null);
  }

  onResponse(response: Readonly<Record<string, unknown>>): void {
    this.observed = response;
  }

  private signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.timedOut) this.controller.abort();
    return this.controller.signal;
  }

  private answered(res: Response): void {
    // Past the deadline nobody reads the answer: a stream of it is cancelled, not left open.
    if (this.settled) return void res.body?.cancel().catch(() => {});
    const sessionId = this.message.method === 'initialize' ? responseHeader(res, 'mcp-session-id') : null;
    const observed =
      this.observed && !responseHeader(res, 'content-type')?.startsWith('text/event-stream')
        ? replyOfMessage(this.observed, stringBody(res))
        : this.opts.read?.(res);
    if (observed) return this.finish(observed, sessionId);
    replyOf(this.entry.name, res).then(
      (reply) => this.finish(reply, sessionId),
      (err: unknown) => this.failed(err),
    );
  }

  private failed(err: unknown): void {
    this.finish(errorOf(this.entry.name, err), null);
  }

  private finish(reply: MemberReply, sessionId: string | null): void {
    if (this.settled) return;
    this.settled = true;
    deadlines.delete(this);
    this.settle(reply, sessionId);
  }
}

function failure(code: number, message: string): MemberReply {
  return { error: { code, message } };
}

/** A thrown backend error as a reply: its JSON-RPC code when it has one, else "unavailable". */
function errorOf(service: string, err: unknown): MemberReply {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'number' && typeof e.message === 'string') return failure(e.code, e.message);
  return failure(JsonRpcCode.BackendUnavailable, `service "${service}" failed`);
}

/** The body of a response whose body is known without reading a stream (lazy or known-body responses). */
function bodyText(res: Response): string | undefined {
  const lazy = unbuiltResponse(res);
  const body = lazy ? lazy.body : knownBody(res);
  if (typeof body === 'string') return body;
  return body instanceof Uint8Array
    ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
    : undefined;
}

/** A lazy response's body when it is text (never decoded or read here). */
function stringBody(res: Response): string | undefined {
  const body = unbuiltResponse(res)?.body;
  return typeof body === 'string' ? body : undefined;
}

/**
 * A JSON-RPC response message as a reply (with its result's text when `text`, the message's
 * serialisation, shows it); `undefined` for anything else.
 */
export function replyOfMessage(m: Readonly<Record<string, unknown>>, text?: string): MemberReply | undefined {
  if (!('id' in m)) return undefined;
  const msg = m as { result?: unknown; error?: RpcError };
  if (msg.error && typeof msg.error.code === 'number') return { error: msg.error, asSent: true };
  if (typeof msg.result === 'object' && msg.result !== null) {
    const result = msg.result as Record<string, unknown>;
    const id = m.id;
    const own =
      text !== undefined && (typeof id === 'string' || typeof id === 'number')
        ? resultText(text, id, m)
        : undefined;
    return own === undefined ? { result } : { result, resultText: own };
  }
  return undefined;
}

/** The JSON-RPC response in a backend's answer (JSON, or the last response event of SSE). */
async function replyOf(service: string, res: Response): Promise<MemberReply> {
  const text = bodyText(res) ?? (await res.text());
  const type = responseHeader(res, 'content-type') ?? '';
  const candidates = type.includes('text/event-stream') ? sseDataOf(text) : [text];
  for (const c of candidates.reverse()) {
    let m: unknown;
    try {
      m = JSON.parse(c);
    } catch {
      continue;
    }
    if (typeof m !== 'object' || m === null) continue;
    const reply = replyOfMessage(m as Record<string, unknown>, c);
    if (reply) return reply;
  }
  return failure(
    JsonRpcCode.BackendUnavailable,
    `service "${service}" answered HTTP ${res.status} without a response`,
  );
}
