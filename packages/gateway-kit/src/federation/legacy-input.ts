/**
 * Input requests of 2025-only members (issue 20): a member asked through a
 * 2025 session of its own (`legacy-member.ts`) asks the client for input
 * (`elicitation/create`, `sampling/createMessage`, `roots/list`) as an
 * ordinary server→client request on the event stream of a call, and waits
 * for the answer POSTed to its session. The endpoint turns that request into
 * the multi round-trip result the rest of the federation already relays
 * (`elicitation-relay.ts`): an `input_required` result whose `requestState`
 * names the waiting call. The retry with `inputResponses` POSTs each answer to
 * the member's session (a JSON-RPC response with the member's request id) and
 * reads the same stream on, until the call's own response.
 *
 * Only a federated 2025 session's member sessions relay input: the waiting
 * call lives in this process and in the member's stateful session, which a
 * 2026-07-28 retry (stateless, possibly on another instance) cannot resume.
 * Members asked for 2026-07-28 callers declare no input capabilities; one
 * that asks anyway gets an error, and the call a clear JSON-RPC error.
 */
import { randomUUID } from 'node:crypto';
import { INPUT_CAPABILITY, RELAY_LIMITS } from './elicitation-relay.js';
import { replyOfMessage, type MemberReply, type RpcError } from './member.js';
import { readEvents } from './sse-events.js';

type Message = Record<string, unknown>;

/** Messages of a call's stream kept unread at most (requests and responses; notifications are dropped). */
const MAX_QUEUED = 64;

const fail = (code: number, message: string): MemberReply => ({ error: { code, message } });

/** A member's event-stream answer, read message by message. */
export class MemberEvents {
  private readonly queue: Message[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly controller = new AbortController();

  constructor(body: ReadableStream<Uint8Array>) {
    void readEvents(body, this.controller.signal, (m) => {
      // Only messages with an id matter here (the call's response, requests to the client).
      if (!('id' in m)) return;
      if (this.queue.length >= MAX_QUEUED) return this.close();
      this.queue.push(m);
      this.wake?.();
    })
      .catch(() => {})
      .finally(() => {
        this.ended = true;
        this.wake?.();
      });
  }

  /** The next request or response of the stream: `ended` when it closed, `timeout` after `timeoutMs`. */
  async next(timeoutMs: number): Promise<Message | 'ended' | 'timeout'> {
    while (this.queue.length === 0) {
      if (this.ended) return 'ended';
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!woken) return 'timeout';
    }
    return this.queue.shift()!;
  }

  /** Stops reading (the member's stream is cancelled). */
  close(): void {
    this.controller.abort();
  }
}

/** One call to a 2025-only member, read from its event stream. */
export interface LegacyCall {
  owner: string;
  service: string;
  /** The member-side id of the call's request. */
  callId: number;
  events: MemberEvents;
  /** True when the owner relays input (a federated 2025 session); false for 2026-07-28 callers. */
  relays: boolean;
  /** Milliseconds the member may take for each message of the stream. */
  timeoutMs: number;
  /** POSTs a JSON-RPC response to the member's session (its answer does not matter). */
  post(message: Message): Promise<void>;
}

interface Waiting {
  call: LegacyCall;
  /** Input key → the member's request id. */
  asked: Map<string, unknown>;
  timer: NodeJS.Timeout;
}

/**
 * The calls of 2025-only members waiting for their client's input: each under
 * the relay's answer deadline, at most `maxPendingPerSession` per owner.
 */
export class LegacyInputs {
  private readonly byState = new Map<string, Waiting>();

  constructor(
    private readonly limits: { maxPendingPerSession: number; answerTimeoutMs: number } = RELAY_LIMITS,
  ) {}

  /** Waiting calls now, all owners together. */
  get size(): number {
    return this.byState.size;
  }

  /**
   * Reads `call`'s stream to its response; a request for input on it ends
   * the read with an `input_required` result (relayed owners) or an error.
   */
  async follow(call: LegacyCall): Promise<MemberReply> {
    for (;;) {
      const m = await call.events.next(call.timeoutMs);
      if (m === 'timeout' || m === 'ended') {
        call.events.close();
        if (m === 'ended') return fail(-32000, `service "${call.service}" ended the call without a response`);
        const seconds = Math.round(call.timeoutMs / 100) / 10;
        return fail(-32001, `service "${call.service}" did not answer within ${seconds}s`);
      }
      if (typeof m.method !== 'string') {
        if (m.id === call.callId) return replyOfMessage(m) ?? fail(-32603, 'malformed response');
        continue;
      }
      if (m.method === 'ping') {
        await call.post({ jsonrpc: '2.0', id: m.id, result: {} });
        continue;
      }
      if (!INPUT_CAPABILITY[m.method]) {
        await call.post({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } });
        continue;
      }
      if (!call.relays) {
        const why = 'a federated endpoint relays input requests of a 2025-only service to 2025 sessions only';
        await call.post({ jsonrpc: '2.0', id: m.id, error: { code: -32603, message: why } });
        call.events.close();
        return fail(
          -32603,
          `service "${call.service}" asked the client for ${m.method}, which ${why}: its call waits in a ` +
            'stateful session of its own, which a 2026-07-28 retry cannot resume',
        );
      }
      return this.park(call, m);
    }
  }

  /** Keeps `call` waiting for the client's answer to `request`: the `input_required` result. */
  private async park(call: LegacyCall, request: Message): Promise<MemberReply> {
    const mine = [...this.byState.values()].filter((w) => w.call.owner === call.owner).length;
    if (mine >= this.limits.maxPendingPerSession) {
      const message = 'too many requests to the client are waiting';
      await call.post({ jsonrpc: '2.0', id: request.id, error: { code: -32603, message } });
      call.events.close();
      return fail(-32603, message);
    }
    const state = `legacy-input-${randomUUID()}`;
    const key = 'input-1';
    const timer = setTimeout(
      () => this.abandon(state, { code: -32001, message: 'the client did not answer in time' }),
      this.limits.answerTimeoutMs,
    );
    timer.unref();
    this.byState.set(state, { call, asked: new Map([[key, request.id]]), timer });
    const params = typeof request.params === 'object' && request.params !== null ? request.params : {};
    return {
      result: {
        resultType: 'input_required',
        inputRequests: { [key]: { method: request.method, params } },
        requestState: state,
      },
    };
  }

  /** True when `state` names a waiting call (a retry to resume with {@link resume}). */
  has(state: unknown): boolean {
    return typeof state === 'string' && this.byState.has(state);
  }

  /**
   * The retry of a waiting call by its owner: each answer POSTed to the
   * member's session, then the stream read on ({@link follow}).
   */
  async resume(owner: string, service: string, state: unknown, responses: unknown): Promise<MemberReply> {
    const w = typeof state === 'string' ? this.byState.get(state) : undefined;
    if (!w || w.call.owner !== owner || w.call.service !== service) {
      return fail(-32602, 'Invalid params: requestState names no call waiting for input (it ended)');
    }
    this.byState.delete(state as string);
    clearTimeout(w.timer);
    const answers = typeof responses === 'object' && responses !== null ? (responses as Message) : {};
    for (const [key, id] of w.asked) {
      const answer = answers[key];
      await w.call.post(
        typeof answer === 'object' && answer !== null
          ? { jsonrpc: '2.0', id, result: answer }
          : { jsonrpc: '2.0', id, error: { code: -32603, message: 'the client gave no answer' } },
      );
    }
    return this.follow(w.call);
  }

  /** Ends the waits of `owner` (with `service` only, when given): the member is told, its stream closed. */
  close(owner: string, service?: string): void {
    for (const [state, w] of [...this.byState]) {
      if (w.call.owner === owner && (service === undefined || w.call.service === service)) {
        this.abandon(state, { code: -32001, message: 'the session ended' });
      }
    }
  }

  /**
   * The client refused the input `owner`'s call waits for (its error): the
   * member gets that error as its answer, and its stream is no longer read.
   */
  refuse(owner: string, state: unknown, error: RpcError): void {
    const w = typeof state === 'string' ? this.byState.get(state) : undefined;
    if (w?.call.owner === owner) this.abandon(state as string, error);
  }

  private abandon(state: string, error: RpcError): void {
    const w = this.byState.get(state);
    if (!w) return;
    this.byState.delete(state);
    clearTimeout(w.timer);
    const posts = [...w.asked.values()].map((id) => w.call.post({ jsonrpc: '2.0', id, error }));
    void Promise.allSettled(posts).then(() => w.call.events.close());
  }
}
