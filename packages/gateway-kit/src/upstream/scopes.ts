/**
 * OAuth scope lists (RFC 6749 §3.3: space-separated scope tokens) as upstream sign-in combines
 * them: the union of what a user was granted, asked for and challenged for (MCP SEP-2350 step-up).
 */

/** One RFC 6749 `scope-token`: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The scope tokens of `lists` (space-separated), each once, in order of appearance; malformed ones are left out. */
export function scopeTokens(...lists: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const list of lists)
    for (const token of (list ?? '').split(/\s+/)) if (SCOPE_TOKEN.test(token)) out.add(token);
  return [...out];
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
