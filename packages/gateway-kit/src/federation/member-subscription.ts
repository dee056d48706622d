/**
 * The member side of a federated resource subscription: a 2025 session with
 * the owning member, held for one subscriber (a federated 2025 session or a
 * 2026-07-28 `subscriptions/listen` stream) while it has subscriptions there.
 * Its `GET` event stream carries the member's `notifications/resources/updated`;
 * `resources/subscribe` and `resources/unsubscribe` are sent in it. A 2025
 * session is what holds a subscription open at every member backend: the
 * stdio bridge keeps one child per session (its 2026-07-28 pool does not
 * carry resource subscriptions), and an `http` member answers it as any 2025
 * server does. Ended with `DELETE`.
 */
import type { Identity } from '../identity.js';
import type { ServiceBackend } from '../services/backend.js';
import type { ServiceEntry } from '../services/registry.js';
import { LEGACY_MEMBER_VERSION, type LegacyMemberSessions } from './legacy-member.js';
import type { MemberReply, RpcError } from './member.js';
import { readEvents } from './sse-events.js';

/** The notification a member sends when a subscribed resource changed. */
export const RESOURCE_UPDATED = 'notifications/resources/updated';

/** What a member session is opened with. */
export interface MemberSessionOptions {
  /** The 2025 member sessions of the endpoint's subscriptions (kept from their idle sweep). */
  sessions: LegacyMemberSessions;
  /** Its owner there: one subscriber at one member. */
  owner: string;
  entry: ServiceEntry;
  backend: ServiceBackend;
  identity: Identity;
  /** Milliseconds each exchange with the member may take. */
  timeoutMs: number;
  /** Each `notifications/resources/updated` of the member, its params as sent. */
  onUpdated(params: Record<string, unknown>): void;
  /** The member ended the stream (it restarted, the session expired): its subscriptions are gone. */
  onLost(): void;
}

/** An open subscription session with one member. */
export class MemberSubscriptionSession {
  private readonly controller = new AbortController();
  private closed = false;
  /** The last request sent: the next waits for it. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly opts: MemberSessionOptions,
    private readonly sessionId: string,
  ) {}

  /** Opens the session and its `GET` stream; an error when the member refuses either. */
  static async open(opts: MemberSessionOptions): Promise<MemberSubscriptionSession | { error: RpcError }> {
    const { sessions, owner, entry, backend } = opts;
    const id = await sessions.pinnedSession(owner, entry, backend, opts);
    if (!id) {
      return {
        error: { code: -32000, message: `service "${entry.name}" opened no session to subscribe in` },
      };
    }
    const session = new MemberSubscriptionSession(opts, id);
    const refused = await session.openStream();
    if (refused) {
      session.close();
      return { error: refused };
    }
    return session;
  }

  /**
   * Sends `resources/subscribe` or `resources/unsubscribe` for `uri` in the
   * session, one at a time (the session's requests all carry the same id).
   */
  send(method: 'resources/subscribe' | 'resources/unsubscribe', uri: string): Promise<MemberReply> {
    const { sessions, owner, entry, backend } = this.opts;
    const sent = this.queue.then((): Promise<MemberReply> => {
      // Closed: never a new session (the sessions would open one for the owner).
      if (this.closed)
        return Promise.resolve({ error: { code: -32000, message: 'subscription session ended' } });
      return sessions.request(owner, entry, backend, method, { uri }, this.opts);
    });
    this.queue = sent.catch(() => undefined);
    return sent;
  }

  /** Ends the stream and the member's session (`DELETE`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    this.opts.sessions.closeOwner(this.opts.owner);
  }

  /** Opens the `GET` stream and reads it in the background; an error when the member refuses it. */
  private async openStream(): Promise<RpcError | undefined> {
    const { entry, backend, identity } = this.opts;
    const headers = {
      accept: 'text/event-stream',
      'mcp-protocol-version': LEGACY_MEMBER_VERSION,
      'mcp-session-id': this.sessionId,
    };
    const { signal } = this.controller;
    let res: Response;
    try {
      res = await backend.handle(
        new Request(entry.route.resource, { method: 'GET', headers, signal }),
        identity,
      );
    } catch {
      return { code: -32000, message: `service "${entry.name}" failed to open its event stream` };
    }
    if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await res.body?.cancel().catch(() => {});
      const message = `service "${entry.name}" offers no event stream (HTTP ${res.status})`;
      return { code: -32000, message };
    }
    void readEvents(res.body, signal, (msg) => {
      if (msg.method !== RESOURCE_UPDATED) return;
      const params = msg.params;
      if (typeof params !== 'object' || params === null || Array.isArray(params)) return;
      if (typeof (params as { uri?: unknown }).uri === 'string')
        this.opts.onUpdated(params as Record<string, unknown>);
    })
      .catch(() => {})
      .finally(() => {
        if (!this.closed) {
          this.close();
          this.opts.onLost();
        }
      });
    return undefined;
  }
}
