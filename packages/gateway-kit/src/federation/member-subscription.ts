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
import { LEGACY_MEMBER_VERSION } from './legacy-member.js';
import { memberExchange, type MemberReply, type RpcError } from './member.js';
import { readEvents } from './watch.js';

/** The notification a member sends when a subscribed resource changed. */
export const RESOURCE_UPDATED = 'notifications/resources/updated';

const headersFor = (sessionId: string | undefined): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': LEGACY_MEMBER_VERSION,
  ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
});

/** What a member session is opened with. */
export interface MemberSessionOptions {
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

  private constructor(
    private readonly opts: MemberSessionOptions,
    private readonly sessionId: string,
  ) {}

  /** Opens the session and its `GET` stream; an error when the member refuses either. */
  static async open(opts: MemberSessionOptions): Promise<MemberSubscriptionSession | { error: RpcError }> {
    const { entry, backend } = opts;
    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_MEMBER_VERSION,
        capabilities: {},
        clientInfo: { name: 'mcp-gateway-federated', version: '1' },
      },
    };
    const init = await memberExchange(entry, backend, initialize, headersFor(undefined), opts);
    if ('error' in init.reply) return init.reply;
    if (!init.sessionId) {
      return { error: { code: -32000, message: `service "${entry.name}" opened no session` } };
    }
    const session = new MemberSubscriptionSession(opts, init.sessionId);
    const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await memberExchange(entry, backend, initialized, headersFor(init.sessionId), opts);
    const stream = await session.openStream();
    if (stream) {
      session.close();
      return { error: stream };
    }
    return session;
  }

  /** Sends `resources/subscribe` or `resources/unsubscribe` for `uri` in the session. */
  async send(method: 'resources/subscribe' | 'resources/unsubscribe', uri: string): Promise<MemberReply> {
    const { entry, backend } = this.opts;
    const message = { jsonrpc: '2.0', id: 1, method, params: { uri } };
    return (await memberExchange(entry, backend, message, headersFor(this.sessionId), this.opts)).reply;
  }

  /** Ends the stream and the member's session. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    const { entry, backend, identity } = this.opts;
    const request = new Request(entry.route.resource, {
      method: 'DELETE',
      headers: headersFor(this.sessionId),
    });
    // The member's answer to DELETE does not matter.
    void backend
      .handle(request, identity)
      .then((res) => res.body?.cancel())
      .catch(() => {});
  }

  /** Opens the `GET` stream and reads it in the background; an error when the member refuses it. */
  private async openStream(): Promise<RpcError | undefined> {
    const { entry, backend, identity } = this.opts;
    const headers = { ...headersFor(this.sessionId), accept: 'text/event-stream' };
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
