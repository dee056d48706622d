import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { MAX_SCOPE_LENGTH, newestFitting, scopeTokens } from './scopes.js';

/** Records are kept this long after their last write (as the users' tokens are). */
const RECORD_TTL_MS = 90 * 24 * 3600_000;
/**
 * How long a scope the authorization server refused is not asked for again (a day: its policy or
 * the user's rights may change; then the step-up is asked for once more).
 */
export const REFUSED_TTL_MS = 24 * 3600_000;
/** Most scopes kept per user and service in each list (an upstream naming more is not followed further). */
const MAX_SCOPES = 64;

/** What is kept for one user at one service (scopes oldest first). */
export interface ScopeRecord {
  /** The scopes the upstream's challenges named for the user, asked for at their next sign-in. */
  challenged: string[];
  /**
   * Challenged scopes a sign-in asked for and the authorization server did not grant (`invalid_scope`,
   * or left out of the grant): not asked for again, and no step-up is asked for them, for
   * {@link REFUSED_TTL_MS}.
   */
  refused: string[];
}

/**
 * The scopes an upstream's challenges named for one user (the `scope` of a 401, or of a 403
 * `insufficient_scope`): MCP authorization, "Scope Selection Strategy" (the challenge's scopes are
 * authoritative for the operation) and "Step-Up Authorization Flow" (SEP-2350). Kept in the store
 * per (service, user), so the user's next sign-in at the upstream, on any instance, asks for them
 * with what they were granted; and those the authorization server would not grant, so they are
 * not asked for again. Scopes are no secret: stored as they are, each list at most
 * {@link MAX_SCOPES} scopes of {@link MAX_SCOPE_LENGTH} characters, the newest kept. Two instances
 * recording at once may keep only one of them (the other is challenged again, and recorded then).
 */
export class ChallengedScopes {
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  private static keyOf(service: string, sub: string): string {
    return `gateway:upstream-challenged-scopes:${service} ${sub}`;
  }

  /** What is recorded for `sub` at `service` (`undefined`: nothing); refusals past {@link REFUSED_TTL_MS} are gone. */
  async get(service: string, sub: string): Promise<ScopeRecord | undefined> {
    const stored = await this.stored(service, sub);
    if (!stored) return undefined;
    return { challenged: stored.challenged, refused: stored.refused.map((r) => r.scope) };
  }

  /** The record as stored, without expired refusals. */
  private async stored(service: string, sub: string): Promise<StoredRecord | undefined> {
    const kept = await this.store.get<unknown>(ChallengedScopes.keyOf(service, sub));
    // A plain list: a record of the first version, challenged scopes only.
    const record = Array.isArray(kept) ? { challenged: kept, refused: [] } : (kept as Partial<StoredRecord>);
    if (!record || typeof record !== 'object') return undefined;
    const challenged = scopeTokens(...listOf(record.challenged));
    const since = this.now() - REFUSED_TTL_MS;
    const refused = refusalsOf(record.refused).filter((r) => r.at > since);
    return challenged.length + refused.length > 0 ? { challenged, refused } : undefined;
  }

  /**
   * Adds the scopes of `scope` (a challenge's `scope`) to those recorded for `sub` at `service`, as
   * the newest (refused ones are not); the oldest go when the list is full.
   */
  async add(service: string, sub: string, scope: string): Promise<void> {
    const before = (await this.stored(service, sub)) ?? { challenged: [], refused: [] };
    const refused = before.refused.map((r) => r.scope);
    const named = scopeTokens(scope).filter((t) => !refused.includes(t));
    const challenged = bounded([...before.challenged.filter((t) => !named.includes(t)), ...named]);
    await this.put(service, sub, before, { ...before, challenged });
  }

  /**
   * A sign-in that asked for `scopes` did not get them (the authorization server refused them, or
   * granted less): those of them that were challenged are not asked for, and kept as refused for
   * {@link REFUSED_TTL_MS}.
   */
  async refuse(service: string, sub: string, scopes: readonly string[]): Promise<void> {
    const before = await this.stored(service, sub);
    if (!before) return;
    const gone = before.challenged.filter((t) => scopes.includes(t));
    if (gone.length === 0) return;
    const at = this.now();
    const kept = before.refused.filter((r) => !gone.includes(r.scope));
    const newest = new Set(bounded([...kept.map((r) => r.scope), ...gone]));
    await this.put(service, sub, before, {
      challenged: before.challenged.filter((t) => !gone.includes(t)),
      refused: [...kept, ...gone.map((scope) => ({ scope, at }))].filter((r) => newest.has(r.scope)),
    });
  }

  /** Forgets what was recorded for `sub` at `service` (the user disconnected it, or reset it). */
  async forget(service: string, sub: string): Promise<void> {
    await this.store.delete(ChallengedScopes.keyOf(service, sub));
  }

  private async put(service: string, sub: string, before: StoredRecord, next: StoredRecord): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(before)) return;
    await this.store.set(ChallengedScopes.keyOf(service, sub), next, RECORD_TTL_MS);
  }
}

/** A {@link ScopeRecord} as stored: each refusal with when it was recorded (epoch ms). */
interface StoredRecord {
  challenged: string[];
  refused: { scope: string; at: number }[];
}

/** The refusals of a stored record (a plain scope, of the first version, counts as long expired). */
const refusalsOf = (v: unknown): { scope: string; at: number }[] =>
  (Array.isArray(v) ? v : []).flatMap((r: unknown) => {
    const { scope, at } = (typeof r === 'object' && r !== null ? r : {}) as { scope?: unknown; at?: unknown };
    return typeof scope === 'string' && scopeTokens(scope).length === 1 && typeof at === 'number'
      ? [{ scope, at }]
      : [];
  });

const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((t) => typeof t === 'string') : []);

/** At most {@link MAX_SCOPES} of `tokens` within {@link MAX_SCOPE_LENGTH}, the newest kept. */
const bounded = (tokens: string[]) => newestFitting(tokens, MAX_SCOPE_LENGTH).slice(-MAX_SCOPES);
