import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc.js';

/**
 * One server→client request the child made during an MRTR exchange: the key
 * it was asked under, its method and params digest, and (once the client
 * answered) the answer.
 */
export interface InputStep {
  k: string;
  m: string;
  d: string;
  r?: unknown;
}

/** What a `requestState` holds: enough for any bridge instance to replay the request on any child. */
export interface RequestStatePayload {
  /** The user the state was issued to. */
  u: string;
  /** Expiry, ms since the epoch. */
  exp: number;
  /** Method and params digest of the original request. */
  m: string;
  d: string;
  /** The child's server→client requests so far, in order. */
  s: InputStep[];
  /** The `inputRequests` keys of the pages the child's `-32042` asked to open (URL-mode elicitations), if any. */
  x?: string[];
}

/**
 * Signs and verifies MRTR `requestState` (SEP-2322): base64url JSON, a dot,
 * base64url HMAC-SHA256 over it. Self-contained and integrity-protected;
 * not encrypted (it holds only what the client itself sent or was asked).
 */
export class RequestStateCodec {
  constructor(private readonly key: Uint8Array) {}

  /** Serialises and signs `payload`. */
  sign(payload: RequestStatePayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /**
   * Verifies `state` for `user`, the original `method` + `params` and `now`;
   * any mismatch (tampered, expired, another user's, another request's) is
   * `-32602` HTTP 400 carrying request `id`.
   */
  verify(
    state: unknown,
    expect: { user: string; method: string; digest: string; now: number; id: JsonRpcId },
  ): RequestStatePayload {
    const bad = (why: string) =>
      new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        `Invalid params: requestState ${why}`,
        {},
        expect.id,
      );
    if (typeof state !== 'string' || state.length > 1_000_000) throw bad('is not a string the bridge issued');
    const dot = state.indexOf('.');
    if (dot === -1) throw bad('is malformed');
    const body = state.slice(0, dot);
    const given = Buffer.from(state.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw bad('has a bad signature');
    let p: RequestStatePayload;
    try {
      p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as RequestStatePayload;
    } catch {
      throw bad('is malformed');
    }
    if (typeof p.exp !== 'number' || p.exp <= expect.now) throw bad('has expired');
    if (p.u !== expect.user) throw bad('was issued to another user');
    if (p.m !== expect.method || p.d !== expect.digest) throw bad('belongs to another request');
    if (!Array.isArray(p.s)) throw bad('is malformed');
    if (p.x !== undefined && !(Array.isArray(p.x) && p.x.every((k) => typeof k === 'string')))
      throw bad('is malformed');
    return p;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** SHA-256 (base64url) of `value` as canonical JSON (object keys sorted), without the keys in `omit`. */
export function digestOf(value: Record<string, unknown>, omit: readonly string[] = []): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!omit.includes(k)) copy[k] = v;
  return createHash('sha256').update(canonicalJson(copy)).digest('base64url');
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
