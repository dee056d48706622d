/** A JSON-RPC request id. */
export type JsonRpcId = string | number;

/**
 * One JSON-RPC message, classified by shape only: the bridge reads `id`,
 * `method` and (for progress) `params._meta.progressToken`, and forwards the
 * original text untouched.
 */
export type Classified =
  | { kind: 'request'; id: JsonRpcId; method: string; msg: Record<string, unknown> }
  | { kind: 'notification'; method: string; msg: Record<string, unknown> }
  | { kind: 'response'; id: JsonRpcId | null; msg: Record<string, unknown> };

const isId = (v: unknown): v is JsonRpcId => typeof v === 'string' || typeof v === 'number';

/** Classifies a parsed value, or returns `undefined` when it is not a JSON-RPC 2.0 message. */
export function classify(value: unknown): Classified | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const msg = value as Record<string, unknown>;
  if (msg.jsonrpc !== '2.0') return undefined;
  const { method, id } = msg;
  if (typeof method === 'string') {
    if (id === undefined) return { kind: 'notification', method, msg };
    if (isId(id)) return { kind: 'request', id, method, msg };
    return undefined;
  }
  if (method !== undefined) return undefined;
  if ((msg.result !== undefined || msg.error !== undefined) && (isId(id) || id === null)) {
    return { kind: 'response', id, msg };
  }
  return undefined;
}

/** The progress token a request asked for (`params._meta.progressToken`), if any. */
export function progressTokenOf(msg: Record<string, unknown>): JsonRpcId | undefined {
  const params = msg.params as { _meta?: { progressToken?: unknown } } | undefined;
  const token = params?._meta?.progressToken;
  return isId(token) ? token : undefined;
}
