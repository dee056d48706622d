import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { scopeTokens } from './scopes.js';

/** Records are kept this long after their last write (as the users' tokens are). */
const RECORD_TTL_MS = 90 * 24 * 3600_000;
/** Most scopes kept per user and service (an upstream naming more is not followed further). */
const MAX_SCOPES = 64;

/**
 * The scopes an upstream's challenges named for one user (the `scope` of a 401, or of a 403
 * `insufficient_scope`): MCP authorization, "Scope Selection Strategy" (the challenge's scopes are
 * authoritative for the operation) and "Step-Up Authorization Flow" (SEP-2350). Kept in the store
 * per (service, user), so the user's next sign-in at the upstream, on any instance, asks for them
 * with what they were granted. Scopes are no secret: stored as they are, at most
 * {@link MAX_SCOPES}. Two instances recording at once may keep only one of them (the other is
 * challenged again, and recorded then).
 */
export class ChallengedScopes {
  constructor(private readonly store: Store) {}

  private static keyOf(service: string, sub: string): string {
    return `gateway:upstream-challenged-scopes:${service} ${sub}`;
  }

  /** The scopes recorded for `sub` at `service` (space-separated), or `undefined`. */
  async get(service: string, sub: string): Promise<string | undefined> {
    const kept = await this.store.get<string[]>(ChallengedScopes.keyOf(service, sub));
    return Array.isArray(kept) && kept.length > 0 ? scopeTokens(...kept).join(' ') : undefined;
  }

  /** Adds the scopes of `scope` (a challenge's `scope`) to those recorded for `sub` at `service`. */
  async add(service: string, sub: string, scope: string): Promise<void> {
    const key = ChallengedScopes.keyOf(service, sub);
    const kept = await this.store.get<string[]>(key);
    const before = Array.isArray(kept) ? kept : [];
    const next = scopeTokens(...before, scope).slice(0, MAX_SCOPES);
    if (next.length === before.length) return;
    await this.store.set(key, next, RECORD_TTL_MS);
  }

  /** Forgets what was recorded for `sub` at `service` (the user disconnected it). */
  async forget(service: string, sub: string): Promise<void> {
    await this.store.delete(ChallengedScopes.keyOf(service, sub));
  }
}
