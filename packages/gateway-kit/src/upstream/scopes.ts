/**
 * OAuth scope lists (RFC 6749 §3.3: space-separated scope tokens) as upstream sign-in combines
 * them: the union of what a user was granted and challenged for (MCP SEP-2350 step-up), bounded.
 */

/** One RFC 6749 `scope-token`: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Longest scope token the upstream may add to a sign-in (longer ones are ignored). */
export const MAX_SCOPE_TOKEN_LENGTH = 128;
/** Longest `scope` (space-separated) a sign-in asks for and the gateway keeps per user, beyond a configured one. */
export const MAX_SCOPE_LENGTH = 1024;

/** The scope tokens of `lists` (space-separated), each once, in order of appearance; malformed ones are left out. */
export function scopeTokens(...lists: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const list of lists)
    for (const token of (list ?? '').split(/\s+/)) if (SCOPE_TOKEN.test(token)) out.add(token);
  return [...out];
}

/**
 * The scope tokens a token response's `scope` grants: space-separated (RFC 6749 §3.3), or
 * comma-separated as some authorization servers (GitHub's) give it.
 */
export function grantedScopeTokens(granted: string | undefined): string[] {
  return scopeTokens((granted ?? '').split(/[\s,]+/).join(' '));
}

/** The union of `lists` as one `scope` value; `undefined` when it is empty. */
export function unionScopes(...lists: (string | undefined)[]): string | undefined {
  const tokens = scopeTokens(...lists);
  return tokens.length > 0 ? tokens.join(' ') : undefined;
}

/** Whether every scope of `needed` is one of `held`. */
export function coversScopes(held: string | undefined, needed: string | undefined): boolean {
  const have = new Set(scopeTokens(held));
  return scopeTokens(needed).every((s) => have.has(s));
}

/**
 * Of `tokens` (oldest first), those of at most {@link MAX_SCOPE_TOKEN_LENGTH} characters that fit in
 * `room` characters joined by spaces, the newest preferred; in their order.
 */
export function newestFitting(tokens: readonly string[], room: number): string[] {
  const kept = new Set<string>();
  for (const token of [...tokens].reverse()) {
    if (token.length > MAX_SCOPE_TOKEN_LENGTH || kept.has(token)) continue;
    const cost = token.length + (kept.size > 0 ? 1 : 0);
    if (cost > room) continue;
    kept.add(token);
    room -= cost;
  }
  return tokens.filter((t) => kept.delete(t));
}

/**
 * The `scope` a sign-in asks for: all of `base` (the configured scope, or the upstream's default),
 * then as much of `more` (what the user was granted, then challenged for, oldest first) as fits in
 * {@link MAX_SCOPE_LENGTH}, the newest preferred.
 */
export function requestScope(base: string | undefined, more: string | undefined): string | undefined {
  const held = scopeTokens(base);
  const extra = scopeTokens(more).filter((t) => !held.includes(t));
  const room = MAX_SCOPE_LENGTH - held.join(' ').length - (held.length > 0 ? 1 : 0);
  return unionScopes(held.join(' '), newestFitting(extra, room).join(' '));
}
