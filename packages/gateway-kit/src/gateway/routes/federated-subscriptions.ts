/**
 * Resource subscriptions on a federated endpoint's HTTP route: 2025
 * sessions' `resources/subscribe` and `resources/unsubscribe` (updates on the
 * session's `GET` stream), 2026-07-28 `subscriptions/listen` streams'
 * `resourceSubscriptions` ({@link ListenResources}), and the
 * `resources.subscribe` capability, declared when a member of the caller
 * offers subscriptions.
 */
import type { FederatedEndpointConfig } from '../../federation/config.js';
import type { FederatedEndpoint } from '../../federation/endpoint.js';
import type { MemberReply } from '../../federation/member.js';
import { RESOURCE_UPDATED } from '../../federation/member-subscription.js';
import { SubscribeSupport } from '../../federation/subscribe-support.js';
import { ResourceSubscriptions } from '../../federation/subscriptions.js';
import type { Identity } from '../../identity.js';
import type { Logger } from '../../ops/logger.js';
import type { ServiceRegistry } from '../../services/registry.js';
import type { ListenResources } from './federated-listen.js';

/** The 2025 session methods served here. */
const SESSION_METHODS = new Set(['resources/subscribe', 'resources/unsubscribe']);

/** The resource subscriptions of one federated endpoint's route. */
export class FederatedSubscriptions implements ListenResources {
  readonly subscriptions: ResourceSubscriptions;
  private readonly support: SubscribeSupport;

  constructor(
    private readonly endpoint: FederatedEndpoint,
    registry: ServiceRegistry,
    config: FederatedEndpointConfig,
    logger: Logger,
    /** Writes a notification on a 2025 session's `GET` stream (false: none open). */
    private readonly notifySession: (sessionId: string, msg: unknown) => boolean,
    /** For tests only: the time source (default: the wall clock), see {@link SubscriptionDeps.now}. */
    now?: () => number,
  ) {
    this.support = new SubscribeSupport(registry);
    this.subscriptions = new ResourceSubscriptions(config, {
      registry,
      ownerOf: async (uri, identity) => {
        const members = endpoint.members(identity);
        const ask = endpoint.ask({ method: 'resources/read', params: {}, identity });
        return (await endpoint.resourceOwner(uri, identity.sub, members, ask))?.service;
      },
      timeoutMs: config.timeout * 1000,
      logger,
      endpoint: endpoint.route.localPath,
      ...(now ? { now } : {}),
    });
  }

  /** True when a member `identity` may use offers resource subscriptions. */
  offered(identity: Identity): Promise<boolean> {
    const ask = this.endpoint.ask({ method: 'server/discover', params: {}, identity });
    return this.support.offered(this.endpoint.members(identity), identity, ask);
  }

  /** True for the 2025 session methods served by {@link session}. */
  handles(method: string): boolean {
    return SESSION_METHODS.has(method);
  }

  /** `resources/subscribe` or `resources/unsubscribe` in the 2025 session `sessionId`. */
  async session(
    sessionId: string,
    method: string,
    params: Record<string, unknown>,
    identity: Identity,
    /** True while the session is open: one that ended meanwhile keeps nothing. */
    open: () => boolean,
  ): Promise<MemberReply> {
    const uri = params.uri;
    if (typeof uri !== 'string') {
      return { error: { code: -32602, message: 'Invalid params: uri must be a string' } };
    }
    const key = `session:${sessionId}`;
    if (method === 'resources/unsubscribe') return this.subscriptions.unsubscribe(key, uri);
    const deliver = (p: Record<string, unknown>) =>
      void this.notifySession(sessionId, { jsonrpc: '2.0', method: RESOURCE_UPDATED, params: p });
    const reply = await this.subscriptions.subscribe({ key, identity, deliver }, uri);
    if (!open()) this.subscriptions.release(key);
    return reply;
  }

  /** Ends the subscriptions of a 2025 session that ended. */
  sessionClosed(sessionId: string): void {
    this.subscriptions.release(`session:${sessionId}`);
  }

  /** The URIs a listen stream takes: those its owner accepted, within the bounds (the others are left out of the acknowledgement). */
  async subscribe(
    key: string,
    identity: Identity,
    uris: string[],
    deliver: (params: Record<string, unknown>) => void,
  ): Promise<string[]> {
    const subscriber = { key, identity, deliver };
    const taken: string[] = [];
    // One by one: the bounds are checked in order, so the first URIs are the ones taken.
    for (const uri of uris) {
      if ('result' in (await this.subscriptions.subscribe(subscriber, uri))) taken.push(uri);
    }
    return taken;
  }

  release(key: string): void {
    this.subscriptions.release(key);
  }

  /** Ends every subscription. */
  close(): void {
    this.subscriptions.close();
  }
}
