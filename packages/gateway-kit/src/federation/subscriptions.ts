/**
 * Resource subscriptions of a federated endpoint (2025 `resources/subscribe`
 * in a federated session, 2026-07-28 `resourceSubscriptions` on a
 * `subscriptions/listen` stream). A subscription is routed to the member that
 * owns the URI for the caller (the one `resources/read` would ask: a member
 * the user may use, so a resource the user may not see cannot be subscribed
 * to), and held there by a {@link MemberSubscriptionSession} per subscriber
 * and member. The member's `notifications/resources/updated` reaches the
 * subscriber with the URI as sent: URIs are not rewritten, so it is the one
 * the client sees. Bounded per subscriber and per endpoint; unsubscribing the
 * last URI at a member, or the subscriber's end, ends the member session.
 * A member session the member ends (a restart, its idle timeout) is opened
 * again and its URIs subscribed again, unless it lived under
 * {@link REOPEN_AFTER_MS} (then they are dropped, logged); updates sent in
 * between are missed.
 */
import type { Identity } from '../identity.js';
import type { Logger } from '../ops/logger.js';
import type { ServiceRegistry } from '../services/registry.js';
import type { MemberReply } from './member.js';
import { LegacyMemberSessions } from './legacy-member.js';
import { MemberSubscriptionSession } from './member-subscription.js';

/** Bounds of one endpoint's resource subscriptions. */
export interface SubscriptionLimits {
  /** Subscriptions at most, all subscribers together. */
  maxSubscriptions: number;
  /** Subscriptions at most per subscriber (a 2025 session, a `subscriptions/listen` stream). */
  maxSubscriptionsPerSession: number;
}

/** Who holds subscriptions: told of each update of its resources. */
export interface Subscriber {
  /** Unique among the endpoint's subscribers (e.g. `session:<id>`). */
  key: string;
  identity: Identity;
  /** A member's `notifications/resources/updated` params, for a resource this subscriber subscribed to. */
  deliver(params: Record<string, unknown>): void;
}

/** What the subscriptions need of the endpoint. */
export interface SubscriptionDeps {
  registry: ServiceRegistry;
  /** The member owning `uri` for `identity` (as `resources/read` routes it), or `undefined`. */
  ownerOf(uri: string, identity: Identity): Promise<string | undefined>;
  /** Milliseconds each exchange with a member may take. */
  timeoutMs: number;
  logger: Logger;
  /** The endpoint's path, for log lines. */
  endpoint: string;
  /** The time source (ms since the epoch) of {@link REOPEN_AFTER_MS}. Default `Date.now`. */
  now?: () => number;
}

/** A member session lost sooner than this after it opened is not opened again. */
export const REOPEN_AFTER_MS = 1_000;

/** JSON-RPC codes of the answers. */
const Code = { ResourceNotFound: -32002, TooMany: -32000 } as const;

interface SubscriberState {
  subscriber: Subscriber;
  /** Subscribed URIs (and those being subscribed), with their member. */
  uris: Map<string, string>;
  /** The member sessions, by service (a promise while one opens). */
  members: Map<string, Promise<MemberSubscriptionSession | { error: { code: number; message: string } }>>;
  /** When each member session opened. */
  openedAt: Map<string, number>;
}

/** The resource subscriptions of one federated endpoint. */
export class ResourceSubscriptions {
  private readonly subscribers = new Map<string, SubscriberState>();
  private count = 0;
  /** The 2025 member sessions holding them, owned by `<subscriber> <service>`. */
  private readonly sessions: LegacyMemberSessions;

  constructor(
    private readonly limits: SubscriptionLimits,
    private readonly deps: SubscriptionDeps,
  ) {
    // At most one per subscription; pinned, so never ended as idle.
    this.sessions = new LegacyMemberSessions({ maxSessions: limits.maxSubscriptions, idleMs: Infinity });
  }

  /** Subscriptions held now, all subscribers together. */
  get size(): number {
    return this.count;
  }

  /**
   * Subscribes `subscriber` to `uri` at its owner: `{}` once the member took it
   * (or when already subscribed); `-32002` for a URI no member of the caller
   * owns, `-32000` past a bound, else the member's own error.
   */
  async subscribe(subscriber: Subscriber, uri: string): Promise<MemberReply> {
    const state = this.subscribers.get(subscriber.key);
    if (state?.uris.has(uri)) return { result: {} };
    const service = await this.deps.ownerOf(uri, subscriber.identity);
    if (!service) return { error: { code: Code.ResourceNotFound, message: `Resource not found: ${uri}` } };
    const { maxSubscriptions, maxSubscriptionsPerSession } = this.limits;
    const mine = this.state(subscriber);
    if (mine.uris.has(uri)) return { result: {} };
    if (mine.uris.size >= maxSubscriptionsPerSession) {
      this.dropIfEmpty(mine);
      const message = `Too many resource subscriptions for this session (at most ${maxSubscriptionsPerSession})`;
      return { error: { code: Code.TooMany, message } };
    }
    if (this.count >= maxSubscriptions) {
      this.dropIfEmpty(mine);
      const message = `Too many resource subscriptions on this endpoint (at most ${maxSubscriptions})`;
      return { error: { code: Code.TooMany, message } };
    }
    // Counted before the member answers, so concurrent requests stay within the bounds.
    mine.uris.set(uri, service);
    this.count++;
    const session = await this.memberSession(mine, service);
    const reply = 'error' in session ? session : await session.send('resources/subscribe', uri);
    if ('error' in reply && mine.uris.get(uri) === service) this.forget(mine, uri);
    return 'error' in reply ? reply : { result: {} };
  }

  /** Unsubscribes `key` from `uri` (`{}` also when it was not subscribed). */
  async unsubscribe(key: string, uri: string): Promise<MemberReply> {
    const state = this.subscribers.get(key);
    const service = state?.uris.get(uri);
    if (!state || !service) return { result: {} };
    this.forget(state, uri);
    const pending = state.members.get(service);
    if (pending) {
      const session = await pending;
      if (!('error' in session)) await session.send('resources/unsubscribe', uri);
    }
    return { result: {} };
  }

  /** Ends every subscription of `key` (its session or stream ended). */
  release(key: string): void {
    const state = this.subscribers.get(key);
    if (!state) return;
    this.subscribers.delete(key);
    this.count -= state.uris.size;
    state.uris.clear();
    for (const pending of state.members.values()) void pending.then((s) => 'error' in s || s.close());
    state.members.clear();
  }

  /** Ends every subscription. */
  close(): void {
    for (const key of [...this.subscribers.keys()]) this.release(key);
  }

  private state(subscriber: Subscriber): SubscriberState {
    let state = this.subscribers.get(subscriber.key);
    if (!state) {
      state = { subscriber, uris: new Map(), members: new Map(), openedAt: new Map() };
      this.subscribers.set(subscriber.key, state);
    }
    return state;
  }

  /** `state`'s session with `service`, opened when there is none. */
  private memberSession(
    state: SubscriberState,
    service: string,
  ): Promise<MemberSubscriptionSession | { error: { code: number; message: string } }> {
    const open = state.members.get(service);
    if (open) return open;
    const entry = this.deps.registry.get(service);
    if (!entry)
      return Promise.resolve({ error: { code: -32000, message: `service "${service}" is not available` } });
    const { subscriber } = state;
    const opening = MemberSubscriptionSession.open({
      sessions: this.sessions,
      owner: `${subscriber.key} ${service}`,
      entry,
      backend: this.deps.registry.backend(entry),
      identity: subscriber.identity,
      timeoutMs: this.deps.timeoutMs,
      onUpdated: (params) => {
        // Only while the subscriber still holds a subscription at this member.
        if (this.subscribers.get(subscriber.key) !== state) return;
        if ([...state.uris.values()].includes(service)) subscriber.deliver(params);
      },
      onLost: () => this.lost(state, service, opening),
    }).then((session) => {
      state.openedAt.set(service, this.now());
      // Failed, or every subscription there went while it opened: not kept.
      const current =
        state.members.get(service) === opening && this.subscribers.get(subscriber.key) === state;
      if ('error' in session) {
        if (current) state.members.delete(service);
      } else if (!current || ![...state.uris.values()].includes(service)) {
        if (current) state.members.delete(service);
        session.close();
      }
      return session;
    });
    state.members.set(service, opening);
    return opening;
  }

  /** A member session ended by itself: opened again with its URIs, or they are dropped (logged). */
  private lost(state: SubscriberState, service: string, session: Promise<unknown>): void {
    if (state.members.get(service) !== session) return;
    state.members.delete(service);
    const uris = [...state.uris].filter(([, s]) => s === service).map(([uri]) => uri);
    const log = { endpoint: this.deps.endpoint, service };
    const drop = (reason: string) => {
      for (const uri of uris) if (state.uris.get(uri) === service) this.forget(state, uri);
      this.deps.logger.warn(`federated: resource subscriptions at a member dropped: ${reason}`, log);
    };
    if (this.now() - (state.openedAt.get(service) ?? 0) < REOPEN_AFTER_MS) return drop('its session ended');
    this.deps.logger.info('federated: a member ended its subscription session, opening another', log);
    void this.memberSession(state, service).then(async (again) => {
      if ('error' in again) return drop(again.error.message);
      for (const uri of uris) {
        if (state.uris.get(uri) !== service) continue;
        const reply = await again.send('resources/subscribe', uri);
        if ('error' in reply && state.uris.get(uri) === service) this.forget(state, uri);
      }
    });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Drops `uri` from `state`; the member session goes with its last URI. */
  private forget(state: SubscriberState, uri: string): void {
    const service = state.uris.get(uri);
    if (service === undefined || !state.uris.delete(uri)) return;
    this.count--;
    if (![...state.uris.values()].includes(service)) {
      const pending = state.members.get(service);
      state.members.delete(service);
      void pending?.then((s) => 'error' in s || s.close());
    }
    this.dropIfEmpty(state);
  }

  private dropIfEmpty(state: SubscriberState): void {
    if (
      state.uris.size === 0 &&
      state.members.size === 0 &&
      this.subscribers.get(state.subscriber.key) === state
    ) {
      this.subscribers.delete(state.subscriber.key);
    }
  }
}
