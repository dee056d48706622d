/**
 * One request from a federated endpoint to one member service: a synthetic
 * 2026-07-28 stateless request (SEP-2575 `_meta` envelope, SEP-2243 mirrored
 * headers) through the member's own `ServiceBackend.handle`, the same path
 * (limits, pools, deadlines) as a client's request to that service, under a
 * deadline of its own.
 */
import { knownBody } from '@mcp-gateway/internal/known-body';
import { unbuiltResponse } from '@mcp-gateway/internal/lazy-response';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
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
export type MemberReply = { result: Record<string, unknown> } | { error: RpcError };

/** Methods whose name or URI the `Mcp-Name` header mirrors. */
const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** A header value as SEP-2243 sends it: as is when printable ASCII, else `=?base64?…?=`. */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value).toString('base64')}?=`;
}

/** What a member request carries besides method and params. */
export interface MemberRequestOptions {
  identity: Identity;
  /** The caller's `_meta` envelope keys (2026 callers), kept except the protocol version. */
  meta?: Record<string, unknown> | undefined;
  /** Milliseconds before the request is abandoned with `-32001`. */
  timeoutMs: number;
  /** The edge's facts of the client's request (its lazy disconnect `signal`). */
  info?: RequestInfo | undefined;
  /** The member request's trace, when telemetry is on: the backend's hops are its children. */
  trace?: HopTracer | undefined;
}

/**
 * Sends `method` with `params` to `entry`'s backend and reads the one
 * JSON-RPC response (a JSON body, or the response event of an SSE stream).
 * Never throws: a backend that throws, answers garbage or misses the deadline
 * becomes an {@link RpcError}.
 */
export async function memberRequest(
  entry: ServiceEntry,
  backend: ServiceBackend,
  method: string,
  params: Record<string, unknown>,
  opts: MemberRequestOptions,
): Promise<MemberReply> {
  const meta = {
    [MCP_META_KEYS.clientCapabilities]: {},
    ...opts.meta,
    [MCP_META_KEYS.protocolVersion]: MEMBER_PROTOCOL_VERSION,
  };
  const message = { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MEMBER_PROTOCOL_VERSION,
    'mcp-method': method,
  };
  const nameKey = NAMED[method];
  if (nameKey && typeof params[nameKey] === 'string') headers['mcp-name'] = headerValue(params[nameKey]);
  return (await memberExchange(entry, backend, message, headers, opts)).reply;
}

/** A member's reply, with the `Mcp-Session-Id` its answer carried (2025 `initialize`). */
export interface MemberExchange {
  reply: MemberReply;
  sessionId: string | null;
}

/**
 * One JSON-RPC message to `entry`'s backend with `headers`, under the
 * deadline: the reply (never thrown) and the answer's session id.
 */
export async function memberExchange(
  entry: ServiceEntry,
  backend: ServiceBackend,
  message: Record<string, unknown>,
  headers: Record<string, string>,
  opts: Pick<MemberRequestOptions, 'identity' | 'timeoutMs' | 'info' | 'trace'> & {
    /** Reads the backend's answer first (a 2025 member's call stream); `undefined`: read as usual. */
    read?: ((res: Response) => MemberReply | undefined) | undefined;
  },
): Promise<MemberExchange> {
  const body = JSON.stringify(message);
  // Per request: the abort signal is made only when a backend asks for it (the bridge rarely does).
  let controller: AbortController | undefined;
  let timedOut = false;
  const signal = () => {
    controller ??= new AbortController();
    if (timedOut) controller.abort();
    return controller.signal;
  };
  const request = syntheticRequest(entry.route.resource, headers, body, signal);
  // The client's disconnect reaches members through the edge's lazy `info.signal`, as on the direct path.
  const client = opts.info;
  const info = client
    ? {
        get signal() {
          return client.signal;
        },
      }
    : {};
  // Backends that parse their answers anyway hand the reply over as an object: its body is not read again.
  const observed = backend.observesResponses ? new ObservedReply() : undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<MemberExchange>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
      const seconds = Math.round(opts.timeoutMs / 100) / 10;
      const message = `service "${entry.name}" did not answer within ${seconds}s`;
      resolve({ reply: failure(JsonRpcCode.BackendTimeout, message), sessionId: null });
    }, opts.timeoutMs);
  });
  const exchange = (async (): Promise<MemberExchange> => {
    const call = { body, json: message, info, observer: observed, trace: opts.trace };
    const res = await backend.handle(request, opts.identity, call);
    const sessionId = message.method === 'initialize' ? res.headers.get('mcp-session-id') : null;
    const reply = observed?.reply(res) ?? opts.read?.(res) ?? (await replyOf(entry.name, res));
    return { reply, sessionId };
  })().catch((err: unknown) => ({ reply: errorOf(entry.name, err), sessionId: null }));
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The reply a backend told its observer of ({@link ServiceBackend.observesResponses}), when it
 * did so before answering with a finite (non-SSE) body: that body says the same, and is not read.
 */
class ObservedReply implements ResponseObserver {
  private message: Readonly<Record<string, unknown>> | undefined;

  onResponse(response: Readonly<Record<string, unknown>>): void {
    this.message = response;
  }

  /** The observed reply for `res`, or `undefined` (then `res`'s body is read). */
  reply(res: Response): MemberReply | undefined {
    const m = this.message;
    if (!m || res.headers.get('content-type')?.startsWith('text/event-stream')) return undefined;
    return replyOfMessage(m);
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

/** A JSON-RPC response message as a reply; `undefined` for anything else. */
export function replyOfMessage(m: Readonly<Record<string, unknown>>): MemberReply | undefined {
  if (!('id' in m)) return undefined;
  const msg = m as { result?: unknown; error?: RpcError };
  if (msg.error && typeof msg.error.code === 'number') return { error: msg.error };
  if (typeof msg.result === 'object' && msg.result !== null) {
    return { result: msg.result as Record<string, unknown> };
  }
  return undefined;
}

/** The JSON-RPC response in a backend's answer (JSON, or the last response event of SSE). */
async function replyOf(service: string, res: Response): Promise<MemberReply> {
  const text = bodyText(res) ?? (await res.text());
  const type = res.headers.get('content-type') ?? '';
  const candidates = type.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
    : [text];
  for (const c of candidates.reverse()) {
    let m: unknown;
    try {
      m = JSON.parse(c);
    } catch {
      continue;
    }
    if (typeof m !== 'object' || m === null) continue;
    const reply = replyOfMessage(m as Record<string, unknown>);
    if (reply) return reply;
  }
  return failure(
    JsonRpcCode.BackendUnavailable,
    `service "${service}" answered HTTP ${res.status} without a response`,
  );
}
