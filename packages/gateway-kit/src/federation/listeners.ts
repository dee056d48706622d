/**
 * Merged list-changed notifications of a federated endpoint: the clients
 * listening (2025 sessions' `GET` streams, 2026-07-28 `subscriptions/listen`
 * streams), at most `maxListenersPerUser` per user (429) and `maxListeners`
 * overall (503), and, while a user has at least one, one upstream listen
 * per member of that user ({@link watchMember}), opened lazily and closed
 * with the user's last listener. A member's change forgets the user's
 * routing tables and is forwarded once, as a notification of the same kind.
 */
import { GatewayError, JsonRpcCode } from '../errors.js';
import type { Identity } from '../identity.js';
import type { ServiceRegistry } from '../services/registry.js';
import { watchable, watchLegacyMember, watchMember, type ChangedKind, type MemberWatch } from './watch.js';

/** Seconds a refused client is told to wait (as the bridge). */
const RETRY_AFTER_SECONDS = 5;

/** Bounds of the listening clients of one endpoint. */
export interface ListenLimits {
  maxListeners: number;
  maxListenersPerUser: number;
}

/** One listening client: told each changed kind, closed when the endpoint ends it. */
export interface Listener {
  send(kind: ChangedKind): void;
  close(): void;
}

/** What the notifier needs from the endpoint. */
export interface ListChangesDeps {
  registry: ServiceRegistry;
  /** The members `identity` may use. */
  members(identity: Identity): string[];
  /** Milliseconds an upstream listen may take to be acknowledged. */
  timeoutMs: number;
  /** Told of each member change before it is forwarded (the endpoint forgets the user's tables). */
  onChange(user: string, service: string, kind: ChangedKind): void;
  /** The endpoint's 2025-only members, and a session with one (owner `watch:<user>`, ended with the user's last listener). */
  legacy: {
    has(service: string): boolean;
    add(service: string): void;
    session(owner: string, service: string, identity: Identity): Promise<string | undefined>;
  };
  /** Ends the member sessions of an owner. */
  closeOwner(owner: string): void;
}

interface UserListeners {
  listeners: Set<Listener>;
  watches: Map<string, MemberWatch>;
}

/** The listening clients of one federated endpoint and the member listens behind them. */
export class ListChanges {
  private readonly users = new Map<string, UserListeners>();
  private count = 0;

  constructor(
    private readonly limits: ListenLimits,
    private readonly deps: ListChangesDeps,
  ) {}

  /** Listening clients now, all users together. */
  get size(): number {
    return this.count;
  }

  /** Member listens open now, all users together. */
  get watches(): number {
    let n = 0;
    for (const u of this.users.values()) n += u.watches.size;
    return n;
  }

  /**
   * Adds a listener of `identity`, after its member listens are open
   * (acknowledged, or given up on). Returns its removal. Throws 429 at the
   * per-user cap, 503 at the endpoint's.
   */
  async add(identity: Identity, listener: Listener): Promise<() => void> {
    const user = identity.sub;
    let state = this.users.get(user);
    if ((state?.listeners.size ?? 0) >= this.limits.maxListenersPerUser) {
      throw new GatewayError(
        429,
        JsonRpcCode.BackendUnavailable,
        'Too Many Requests: too many list-change streams for this user',
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (this.count >= this.limits.maxListeners) {
      throw new GatewayError(
        503,
        JsonRpcCode.BackendUnavailable,
        'Service Unavailable: too many list-change streams',
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (!state) this.users.set(user, (state = { listeners: new Set(), watches: new Map() }));
    state.listeners.add(listener);
    this.count++;
    const remove = () => this.remove(user, listener);
    await Promise.all(this.watch(identity, state).map((w) => w.ready));
    return remove;
  }

  /** Ends every listener and member listen. */
  close(): void {
    for (const [user, state] of [...this.users]) {
      for (const l of [...state.listeners]) {
        l.close();
        this.remove(user, l);
      }
    }
  }

  /** Opens the member listens `identity` lacks (members it may use that can change). */
  private watch(identity: Identity, state: UserListeners): MemberWatch[] {
    const opened: MemberWatch[] = [];
    for (const service of this.deps.members(identity)) {
      if (state.watches.has(service)) continue;
      const w = this.watchOne(identity, state, service);
      if (w) opened.push(w);
    }
    return opened;
  }

  /** One member's listen: 2026-07-28, or the `GET` stream of a session with a 2025-only member. */
  private watchOne(identity: Identity, state: UserListeners, service: string): MemberWatch | undefined {
    const entry = this.deps.registry.get(service);
    if (!entry || !watchable(entry)) return undefined;
    const user = identity.sub;
    const backend = this.deps.registry.backend(entry);
    const { legacy, timeoutMs } = this.deps;
    const events = {
      onChange: (kind: ChangedKind) => this.changed(user, service, kind),
      // Ended by the member: the next listener of the user opens it again (the 2025 way, when it refused 2026).
      onEnd: (refused: boolean) => {
        if (state.watches.get(service) !== w) return;
        state.watches.delete(service);
        if (refused && entry.config.type === 'http' && !legacy.has(service)) {
          legacy.add(service);
          if (this.users.get(user) === state) this.watchOne(identity, state, service);
        }
      },
    };
    const w = legacy.has(service)
      ? watchLegacyMember(
          entry,
          backend,
          identity,
          async () => {
            const id = await legacy.session(`watch:${user}`, service, identity);
            // The user's last listener went while the session opened: end it too.
            if (this.users.get(user) !== state) this.deps.closeOwner(`watch:${user}`);
            return id;
          },
          timeoutMs,
          events,
        )
      : watchMember(entry, backend, identity, timeoutMs, events);
    state.watches.set(service, w);
    return w;
  }

  private changed(user: string, service: string, kind: ChangedKind): void {
    const state = this.users.get(user);
    if (!state) return;
    this.deps.onChange(user, service, kind);
    for (const l of state.listeners) l.send(kind);
  }

  private remove(user: string, listener: Listener): void {
    const state = this.users.get(user);
    if (!state?.listeners.delete(listener)) return;
    this.count--;
    if (state.listeners.size > 0) return;
    this.users.delete(user);
    for (const w of state.watches.values()) w.close();
    state.watches.clear();
    this.deps.closeOwner(`watch:${user}`);
  }
}
