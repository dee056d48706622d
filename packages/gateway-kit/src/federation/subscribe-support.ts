/**
 * Which members offer resource subscriptions (the federated endpoint then
 * declares `resources.subscribe: true`): a member whose 2025 session
 * capabilities say so (a stdio service, from its bridge's cached `initialize`
 * answer, {@link ServiceBackend.sessionCapabilities}), or whose 2026-07-28
 * `server/discover` does. The built-in `fetch` service has no resources.
 * Remembered per member for {@link CAPABILITIES_TTL_MS}.
 */
import type { Identity } from '../identity.js';
import type { ServiceRegistry } from '../services/registry.js';
import type { Ask } from './catalog.js';
import { CAPABILITIES_TTL_MS } from './completion.js';

const subscribes = (caps: unknown): boolean =>
  (caps as { resources?: { subscribe?: unknown } } | undefined)?.resources?.subscribe === true;

/** What the members declare about resource subscriptions. */
export class SubscribeSupport {
  private readonly known = new Map<string, { subscribe: boolean; expires: number }>();

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when one of `members` offers subscriptions (a member that fails counts as not). */
  async offered(members: readonly string[], identity: Identity, ask: Ask): Promise<boolean> {
    const answers = await Promise.all(members.map((service) => this.declares(service, identity, ask)));
    return answers.includes(true);
  }

  private async declares(service: string, identity: Identity, ask: Ask): Promise<boolean> {
    const k = this.known.get(service);
    if (k && k.expires > this.now()) return k.subscribe;
    const entry = this.registry.get(service);
    if (!entry || entry.config.type === 'fetch') return false;
    const backend = this.registry.backend(entry);
    let subscribe = false;
    if (backend.sessionCapabilities) {
      subscribe = subscribes(await backend.sessionCapabilities(identity).catch(() => undefined));
    } else {
      const reply = await ask(service, 'server/discover', {});
      subscribe = 'result' in reply && subscribes(reply.result.capabilities);
    }
    this.known.set(service, { subscribe, expires: this.now() + CAPABILITIES_TTL_MS });
    return subscribe;
  }
}
