/**
 * One request from a federated endpoint to one member service: a synthetic
 * 2026-07-28 stateless request (SEP-2575 `_meta` envelope, SEP-2243 mirrored
 * headers) through the member's own `ServiceBackend.handle`, the same path
 * (limits, pools, deadlines) as a client's request to that service, under a
 * deadline of its own.
 */
import { knownBody } from '@mcp-gateway/internal/known-body';
import { MATERIALIZE_REQUEST } from '@mcp-gateway/internal/lazy-request';
import { unbuiltResponse } from '@mcp-gateway/internal/lazy-response';
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import { JsonRpcCode } from '../errors.js';
import type { RequestInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { ServiceBackend } from '../services/backend.js';
import type { ServiceEntry } from '../services/registry.js';

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
  opts: Pick<MemberRequestOptions, 'identity' | 'timeoutMs' | 'info'>,
): Promise<MemberExchange> {
  const body = JSON.stringify(message);
  const controller = new AbortController();
  const request = syntheticRequest(entry.route.resource, headers, body, controller.signal);
  // The client's disconnect reaches members through the edge's lazy `info.signal`, as on the direct path.
  const client = opts.info;
  const info = client
    ? {
        get signal() {
          return client.signal;
        },
      }
    : {};
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<MemberExchange>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      const seconds = Math.round(opts.timeoutMs / 100) / 10;
      const message = `service "${entry.name}" did not answer within ${seconds}s`;
      resolve({ reply: failure(JsonRpcCode.BackendTimeout, message), sessionId: null });
    }, opts.timeoutMs);
  });
  const exchange = (async (): Promise<MemberExchange> => {
    const res = await backend.handle(request, opts.identity, { body, json: message, info });
    const sessionId = message.method === 'initialize' ? res.headers.get('mcp-session-id') : null;
    return { reply: await replyOf(entry.name, res), sessionId };
  })().catch((err: unknown) => ({ reply: errorOf(entry.name, err), sessionId: null }));
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A lazy `Request` (the node edge's contract, `@mcp-gateway/internal/lazy-request`): `method`,
 * `url`, `headers.get/has` and `signal` answered from plain values, the real `Request` built
 * only when a backend asks for more (per request: a `new Request` costs more than the rest).
 */
export function syntheticRequest(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Request {
  let real: Request | undefined;
  const materialize = () => (real ??= new Request(url, { method: 'POST', headers, body, signal }));
  return Object.create(Request.prototype, {
    method: { value: 'POST' },
    url: { value: url },
    signal: { value: signal },
    headers: {
      value: {
        get: (name: string) => headers[name.toLowerCase()] ?? null,
        has: (name: string) => name.toLowerCase() in headers,
      },
    },
    [MATERIALIZE_REQUEST]: { value: materialize },
  }) as Request;
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
    if (typeof m !== 'object' || m === null || !('id' in m)) continue;
    const msg = m as { result?: unknown; error?: RpcError };
    if (msg.error && typeof msg.error.code === 'number') return { error: msg.error };
    if (typeof msg.result === 'object' && msg.result !== null) {
      return { result: msg.result as Record<string, unknown> };
    }
  }
  return failure(
    JsonRpcCode.BackendUnavailable,
    `service "${service}" answered HTTP ${res.status} without a response`,
  );
}
