/**
 * Members that answer only the 2025 session wire (an `http` upstream that
 * refuses 2026-07-28 requests): a 2025 session per member and owner, opened
 * lazily by the first request that needs it (`initialize`,
 * `notifications/initialized`) and ended (`DELETE`) with its owner, which is
 * the federated 2025 session, or, for 2026-07-28 callers, the user (ended
 * after the endpoint's idle timeout).
 */
import { MCP_META_KEYS } from '@mcp-gateway/internal/mcp-meta-keys';
import type { Identity } from '../identity.js';
import type { ServiceBackend } from '../services/backend.js';
import type { ServiceEntry } from '../services/registry.js';
import { MRTR_METHODS, inputCapabilities } from './elicitation-relay.js';
import { LegacyInputs, MemberEvents } from './legacy-input.js';
import { memberExchange, type MemberReply, type MemberRequestOptions } from './member.js';

/** The owner of a user's member sessions serving 2026-07-28 callers (a federated 2025 session owns its own by its id). */
export const userOwner = (sub: string): string => `user:${sub}`;

/** True for the owner of a user's member sessions serving 2026-07-28 callers ({@link userOwner}). */
const servesModern = (owner: string): boolean => owner.startsWith('user:');

/** The 2025 revision federated endpoints open member sessions with. */
export const LEGACY_MEMBER_VERSION = '2025-11-25';

/**
 * True when a member's answer to a 2026-07-28 request says it speaks only
 * 2025: an unsupported revision (`-32022`), or a 2025 server asking for a
 * session or an `initialize` first.
 */
export function refusesModern(reply: MemberReply): boolean {
  if (!('error' in reply)) return false;
  const { code, message } = reply.error;
  if (code === -32022) return true;
  return (code === -32000 || code === -32600) && /session|initiali[sz]/i.test(message);
}

interface OpenSession {
  id: string;
  entry: ServiceEntry;
  backend: ServiceBackend;
  identity: Identity;
  lastUsed: number;
  /** Held by a list-change watch: not ended by the idle sweep. */
  pinned?: boolean;
  /** The id of the last request sent in the session (each request has its own: calls may wait for input). */
  lastId: number;
}

type Refusal = { error: { code: number; message: string } };
type Opened = OpenSession | Refusal;

const refusal = (message: string): Refusal => ({ error: { code: -32000, message } });

/**
 * A member's (or the gateway's own session binding's) answer to a request in a session it does
 * not know: `-32001` "Session not found" (Streamable HTTP: HTTP 404), so the request was not served.
 */
const isSessionNotFound = (reply: MemberReply): boolean =>
  'error' in reply && reply.error.code === -32001 && /session not found/i.test(reply.error.message);

/** Values by owner, then service. */
class ByOwner<T> {
  private readonly map = new Map<string, Map<string, T>>();

  get(owner: string, service: string): T | undefined {
    return this.map.get(owner)?.get(service);
  }

  set(owner: string, service: string, value: T): void {
    let mine = this.map.get(owner);
    if (!mine) this.map.set(owner, (mine = new Map()));
    mine.set(service, value);
  }

  delete(owner: string, service: string): void {
    const mine = this.map.get(owner);
    if (!mine?.delete(service)) return;
    if (mine.size === 0) this.map.delete(owner);
  }

  deleteOwner(owner: string): void {
    this.map.delete(owner);
  }

  /** The services of `owner` (a copy: safe to delete from while going through). */
  services(owner: string): string[] {
    return [...(this.map.get(owner)?.keys() ?? [])];
  }

  /**
   * Every entry, live (no copy: the sweep runs on every request). Deleting the entry being
   * visited meanwhile is safe, as with any `Map`.
   */
  *entries(): Generator<[owner: string, service: string, value: T]> {
    for (const [owner, mine] of this.map) for (const [s, v] of mine) yield [owner, s, v];
  }

  get size(): number {
    let n = 0;
    for (const mine of this.map.values()) n += mine.size;
    return n;
  }
}

const headersFor = (sessionId: string | undefined): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': LEGACY_MEMBER_VERSION,
  ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
});

/** The 2025 sessions a federated endpoint holds with its 2025-only members. */
export class LegacyMemberSessions {
  /** Open sessions by owner, then service. */
  private readonly byOwner = new ByOwner<OpenSession>();
  /**
   * Sessions being opened, by owner, then service: the one open concurrent
   * callers of an owner share (each would otherwise open its own, and all but
   * the last would be lost, still open at the member).
   */
  private readonly opening = new ByOwner<Promise<Opened>>();
  /** Calls waiting for their client's input (elicitation, sampling, roots). */
  readonly inputs = new LegacyInputs();

  constructor(
    private readonly limits: { maxSessions: number; idleMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Sends `method` to `entry` in `owner`'s session with it, opening the session first when there is none. */
  async request(
    owner: string,
    entry: ServiceEntry,
    backend: ServiceBackend,
    method: string,
    params: Record<string, unknown>,
    opts: MemberRequestOptions,
    /** Whether this is the one retry in a new session after the member forgot the last one. */
    retried = false,
  ): Promise<MemberReply> {
    // The caller's `_meta` (a 2026 envelope) never reaches a 2025 member: at most its progress token.
    const { inputResponses, requestState, _meta: _caller, ...rest } = params;
    // A retry of a call that waits for the client's input: the answers go to the waiting call.
    if (requestState !== undefined) {
      const waiting = this.byOwner.get(owner, entry.name);
      if (waiting) waiting.lastUsed = this.now();
      return this.inputs.resume(owner, entry.name, requestState, inputResponses);
    }
    this.sweep();
    const session = await this.session(owner, entry, backend, opts);
    if ('error' in session) return session;
    session.lastUsed = this.now();
    const { progressToken } = (opts.meta ?? {}) as { progressToken?: unknown };
    const id = ++session.lastId;
    const message = {
      jsonrpc: '2.0',
      id,
      method,
      params: progressToken === undefined ? rest : { ...rest, _meta: { progressToken } },
    };
    const headers = headersFor(session.id);
    let reply: MemberReply;
    if (MRTR_METHODS.has(method)) reply = await this.call(owner, session, message, opts);
    else {
      ({ reply } = await memberExchange(entry, backend, message, headers, opts));
      // The member forgot the session (it restarted): the next request opens a new one.
      if ('error' in reply && /session/i.test(reply.error.message)) this.end(owner, entry.name, session);
    }
    // A session the member (or the gateway's own binding, past its idle timeout) does not know: the
    // request was not served, so it is sent once more, in a new session.
    if (!retried && isSessionNotFound(reply)) {
      this.end(owner, entry.name, session);
      return this.request(owner, entry, backend, method, params, opts, true);
    }
    return reply;
  }

  /**
   * A call that may ask the client for input: its event-stream answer is read
   * message by message ({@link LegacyInputs.follow}).
   */
  private async call(
    owner: string,
    session: OpenSession,
    message: { id: number } & Record<string, unknown>,
    opts: MemberRequestOptions,
  ): Promise<MemberReply> {
    const { entry, backend } = session;
    let events: MemberEvents | undefined;
    let settled = false;
    const streamed: MemberReply = { result: {} };
    const read = (res: Response): MemberReply | undefined => {
      if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) return undefined;
      // The deadline passed before the answer came: nobody reads it.
      if (settled) {
        void res.body.cancel().catch(() => {});
        return streamed;
      }
      events = new MemberEvents(res.body);
      return streamed;
    };
    const exchange = memberExchange(entry, backend, message, headersFor(session.id), { ...opts, read });
    const { reply } = await exchange.finally(() => (settled = true));
    if (reply !== streamed || !events) {
      if ('error' in reply && /session/i.test(reply.error.message)) this.end(owner, entry.name, session);
      return reply;
    }
    const post = async (answer: Record<string, unknown>) => {
      const ok = (res: Response): MemberReply => (void res.body?.cancel().catch(() => {}), streamed);
      await memberExchange(entry, backend, answer, headersFor(session.id), { ...opts, read: ok });
    };
    const relays = !servesModern(owner);
    const call = { owner, service: entry.name, callId: message.id, events, relays, post };
    return this.inputs.follow({ ...call, timeoutMs: opts.timeoutMs });
  }

  /**
   * `owner`'s session with `entry`: the open one, else the one being opened,
   * else a new one, within `maxSessions` (those open and those being opened).
   */
  private session(
    owner: string,
    entry: ServiceEntry,
    backend: ServiceBackend,
    opts: MemberRequestOptions,
  ): Promise<Opened> {
    const found = this.byOwner.get(owner, entry.name) ?? this.opening.get(owner, entry.name);
    if (found) return Promise.resolve(found);
    if (this.byOwner.size + this.opening.size >= this.limits.maxSessions) {
      return Promise.resolve(refusal(`too many sessions with service "${entry.name}"`));
    }
    const pending: Promise<Opened> = this.open(owner, entry, backend, opts).then((opened) =>
      this.settle(owner, entry.name, pending, opened),
    );
    this.opening.set(owner, entry.name, pending);
    return pending;
  }

  /**
   * Keeps a session just opened, unless its owner closed meanwhile (then it is
   * ended at the member at once and the callers refused).
   */
  private settle(owner: string, service: string, pending: Promise<Opened>, opened: Opened): Opened {
    const current = this.opening.get(owner, service) === pending;
    if (current) this.opening.delete(owner, service);
    if ('error' in opened) return opened;
    if (!current) {
      endAtMember(opened);
      return refusal(`the session with service "${service}" ended while it was being opened`);
    }
    this.byOwner.set(owner, service, opened);
    return opened;
  }

  private async open(
    owner: string,
    entry: ServiceEntry,
    backend: ServiceBackend,
    opts: MemberRequestOptions,
  ): Promise<Opened> {
    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_MEMBER_VERSION,
        // A federated 2025 session's client's input capabilities: its member may ask (relayed); none for 2026-07-28 callers.
        capabilities: servesModern(owner) ? {} : inputCapabilities(clientCapabilities(opts)),
        clientInfo: { name: 'mcp-gateway-federated', version: '1' },
      },
    };
    const init = await memberExchange(entry, backend, initialize, headersFor(undefined), opts);
    if ('error' in init.reply) return init.reply;
    if (!init.sessionId)
      return { error: { code: -32000, message: `service "${entry.name}" opened no session` } };
    const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await memberExchange(entry, backend, initialized, headersFor(init.sessionId), opts);
    return { id: init.sessionId, entry, backend, identity: opts.identity, lastUsed: this.now(), lastId: 0 };
  }

  /**
   * The id of `owner`'s session with `entry` (opened when there is none),
   * kept from the idle sweep until `owner` is closed (a list-change watch).
   */
  async pinnedSession(
    owner: string,
    entry: ServiceEntry,
    backend: ServiceBackend,
    opts: MemberRequestOptions,
  ): Promise<string | undefined> {
    const session = await this.session(owner, entry, backend, opts);
    if ('error' in session) return undefined;
    session.pinned = true;
    return session.id;
  }

  /** Ends every member session of `owner` (its federated session ended), those being opened too ({@link settle}). */
  closeOwner(owner: string): void {
    this.opening.deleteOwner(owner);
    for (const service of this.byOwner.services(owner)) this.end(owner, service);
  }

  /** Ends the sessions idle past the timeout. */
  sweep(): void {
    const now = this.now();
    for (const [owner, service, s] of this.byOwner.entries()) {
      if (!s.pinned && now - s.lastUsed > this.limits.idleMs) this.end(owner, service);
    }
  }

  /** Ends every session. */
  closeAll(): void {
    for (const [owner] of [...this.byOwner.entries(), ...this.opening.entries()]) this.closeOwner(owner);
  }

  /** Ends `owner`'s session with `service` (only when it is still `only`, when given: not one opened since). */
  private end(owner: string, service: string, only?: OpenSession): void {
    const s = this.byOwner.get(owner, service);
    if (!s || (only && s !== only)) return;
    this.byOwner.delete(owner, service);
    this.inputs.close(owner, service);
    endAtMember(s);
  }
}

/** DELETE ends the member's session; its answer does not matter. */
function endAtMember(s: OpenSession): void {
  const request = new Request(s.entry.route.resource, { method: 'DELETE', headers: headersFor(s.id) });
  void s.backend
    .handle(request, s.identity)
    .then((res) => res.body?.cancel())
    .catch(() => {});
}

/** The client capabilities a member request's `_meta` declares. */
function clientCapabilities(opts: Pick<MemberRequestOptions, 'meta'>): unknown {
  return opts.meta?.[MCP_META_KEYS.clientCapabilities];
}
