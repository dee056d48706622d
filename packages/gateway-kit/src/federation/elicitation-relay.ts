/**
 * Multi round-trip requests (SEP-2322, "MRTR") for federated 2025 sessions.
 * Members are asked with 2026-07-28 requests, so a member tool that needs the
 * client (elicitation, sampling, roots) answers `input_required` with its
 * `inputRequests` and a `requestState`. A 2025 client knows nothing of that:
 * the endpoint asks it each input as an ordinary server→client request on the
 * call's event stream, waits for its answers (each under a deadline, a bounded
 * number per session), and retries the member request with `inputResponses`
 * and the `requestState`, until the member answers for good (a bounded number
 * of rounds). 2026-07-28 callers get `input_required` as is and retry themselves.
 */
import { randomUUID } from 'node:crypto';
import type { MemberReply, RpcError } from './member.js';

/** Server→client request → the client capability it needs (as the bridge maps them). */
export const INPUT_CAPABILITY: Readonly<Record<string, string>> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** Methods whose 2026 answer may be `input_required`. */
export { MRTR_METHODS } from '../protocol-version.js';

/** Limits of the relay. */
export const RELAY_LIMITS = {
  /** Rounds (member answers `input_required`, client asked, retried) per call at most. */
  maxRounds: 8,
  /** Server→client requests waiting for a session's client at most. */
  maxPendingPerSession: 16,
  /** Milliseconds the client has to answer one request (a person may be answering). */
  answerTimeoutMs: 5 * 60_000,
} as const;

/** JSON-RPC codes of the relay's refusals. */
const Code = { MissingCapability: -32021, InternalError: -32603, Timeout: -32001 } as const;

/** An `input_required` result, read. */
export interface InputRequired {
  inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
  requestState: unknown;
}

/** The `input_required` parts of a member's reply, or `undefined` for any other reply. */
export function inputRequired(reply: MemberReply): InputRequired | undefined {
  if (!('result' in reply) || reply.result.resultType !== 'input_required') return undefined;
  const raw = reply.result.inputRequests;
  const inputRequests: InputRequired['inputRequests'] = {};
  if (typeof raw === 'object' && raw !== null) {
    for (const [key, r] of Object.entries(raw as Record<string, unknown>)) {
      const req = r as { method?: unknown; params?: unknown } | null;
      if (typeof req?.method !== 'string') continue;
      const params = typeof req.params === 'object' && req.params !== null ? req.params : {};
      inputRequests[key] = { method: req.method, params: params as Record<string, unknown> };
    }
  }
  return { inputRequests, requestState: reply.result.requestState };
}

/** The client capabilities a 2025 session's client declared that members may use (`_meta` for member requests). */
export function inputCapabilities(declared: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof declared !== 'object' || declared === null) return out;
  for (const cap of Object.values(INPUT_CAPABILITY)) {
    const v = (declared as Record<string, unknown>)[cap];
    if (v !== undefined) out[cap] = v;
  }
  return out;
}

type Answer = { result: Record<string, unknown> } | { error: RpcError };

interface Pending {
  session: string;
  resolve: (answer: Answer) => void;
  timer: NodeJS.Timeout;
}

/**
 * The server→client requests a federated endpoint's 2025 sessions are waiting
 * on: each has an id of its own, a deadline, and is answered by the client's
 * JSON-RPC response posted to the session.
 */
export class PendingInputs {
  private readonly byId = new Map<string, Pending>();
  private readonly perSession = new Map<string, number>();
  private next = 0;

  constructor(
    private readonly limits: { maxPendingPerSession: number; answerTimeoutMs: number } = RELAY_LIMITS,
  ) {}

  /** Requests waiting now, all sessions together. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Sends `method` to `session`'s client through `send` and waits for its
   * answer: its result, or an error (its own, the deadline's, the bound's, or
   * `signal`'s when the call ends first).
   */
  ask(
    session: string,
    send: (message: Record<string, unknown>) => void,
    method: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const count = this.perSession.get(session) ?? 0;
    if (count >= this.limits.maxPendingPerSession) {
      return Promise.resolve(fail(Code.InternalError, 'too many requests to the client are waiting'));
    }
    const id = `fed-input-${++this.next}`;
    return new Promise<Answer>((resolve) => {
      const settle = (answer: Answer) => {
        if (!this.byId.delete(id)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const left = (this.perSession.get(session) ?? 1) - 1;
        if (left > 0) this.perSession.set(session, left);
        else this.perSession.delete(session);
        resolve(answer);
      };
      const onAbort = () => settle(fail(Code.InternalError, 'the call ended before the client answered'));
      const seconds = Math.round(this.limits.answerTimeoutMs / 1000);
      const timer = setTimeout(
        () => settle(fail(Code.Timeout, `the client did not answer ${method} within ${seconds}s`)),
        this.limits.answerTimeoutMs,
      );
      timer.unref();
      this.byId.set(id, { session, resolve: settle, timer });
      this.perSession.set(session, count + 1);
      signal?.addEventListener('abort', onAbort, { once: true });
      send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /**
   * A JSON-RPC response the client of `session` posted: true when it answered
   * one of the session's waiting requests (another session's ids never match).
   */
  answer(session: string, message: { id?: unknown; result?: unknown; error?: unknown }): boolean {
    const p = typeof message.id === 'string' ? this.byId.get(message.id) : undefined;
    if (!p || p.session !== session) return false;
    const e = message.error as RpcError | undefined;
    if (e && typeof e === 'object') {
      p.resolve({ error: { code: Number(e.code) || Code.InternalError, message: String(e.message ?? '') } });
    } else if (typeof message.result === 'object' && message.result !== null) {
      p.resolve({ result: message.result as Record<string, unknown> });
    } else {
      p.resolve(fail(Code.InternalError, 'the client answered without a result'));
    }
    return true;
  }

  /** Ends the waits of a session that ended. */
  closeSession(session: string): void {
    for (const p of [...this.byId.values()]) {
      if (p.session === session) p.resolve(fail(Code.InternalError, 'the session ended'));
    }
  }
}

const fail = (code: number, message: string, data?: unknown): { error: RpcError } => ({
  error: { code, message, ...(data === undefined ? {} : { data }) },
});

/** What {@link relayInputs} needs for one call. */
export interface RelayOptions {
  /** The client capabilities the session's client declared. */
  capabilities: Record<string, unknown>;
  /** Asks the client one input; resolves with its answer. */
  ask(method: string, params: Record<string, unknown>): Promise<Answer>;
  /** Sends the member request again with the client's answers. */
  retry(inputResponses: Record<string, unknown>, requestState: unknown): Promise<MemberReply>;
  /** Told when the call ends with the member still waiting on `requestState` (the client refused): `error` ends its wait. */
  abandon?(requestState: unknown, error: RpcError): void;
  maxRounds?: number;
}

/**
 * An input request as a 2025 client takes it: a URL-mode `elicitation/create` carries the
 * `elicitationId` MCP 2025-11-25 requires (2026-07-28 removed it; a member asked on that wire
 * sends none).
 */
function legacyParams(r: { method: string; params: Record<string, unknown> }): Record<string, unknown> {
  if (r.method !== 'elicitation/create' || r.params.mode !== 'url' || r.params.elicitationId !== undefined)
    return r.params;
  return { ...r.params, elicitationId: randomUUID() };
}

/**
 * Runs a call's rounds to the end: while the member answers `input_required`,
 * asks the client each input (refused with `-32021` when it did not declare
 * the capability), then retries. The client's error ends the call with it.
 */
export async function relayInputs(first: MemberReply, opts: RelayOptions): Promise<MemberReply> {
  let reply = first;
  const maxRounds = opts.maxRounds ?? RELAY_LIMITS.maxRounds;
  for (let round = 0; round < maxRounds; round++) {
    const needed = inputRequired(reply);
    if (!needed) return reply;
    const entries = Object.entries(needed.inputRequests);
    for (const [, r] of entries) {
      const capability = INPUT_CAPABILITY[r.method];
      if (!capability || opts.capabilities[capability] === undefined) {
        const what = capability ?? r.method;
        const refusal = fail(
          Code.MissingCapability,
          `Missing required client capability: ${what} (the service asked the client for it)`,
          { requiredCapabilities: { [what]: {} } },
        );
        opts.abandon?.(needed.requestState, refusal.error);
        return refusal;
      }
    }
    const answers = await Promise.all(entries.map(([, r]) => opts.ask(r.method, legacyParams(r))));
    const responses: Record<string, unknown> = {};
    for (const [i, [key, r]] of entries.entries()) {
      const a = answers[i]!;
      if ('error' in a) {
        opts.abandon?.(needed.requestState, a.error);
        return fail(a.error.code, `the client refused ${r.method}: ${a.error.message}`);
      }
      responses[key] = a.result;
    }
    reply = await opts.retry(responses, needed.requestState);
  }
  if (!inputRequired(reply)) return reply;
  return fail(Code.InternalError, `the service asked for input more than ${maxRounds} times`);
}
