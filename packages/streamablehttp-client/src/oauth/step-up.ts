/**
 * Step-up authorization (MCP SEP-2350): a 403 `insufficient_scope` challenge
 * leads to one sign-in for the scopes held plus those the challenge names.
 */
import { AuthError } from '../errors.js';
import { scopeSet } from './session-helpers.js';

/** Whether every scope of `needed` is in `held` (space-separated lists). */
export function holdsScopes(held: string | undefined, needed: string | undefined): boolean {
  const have = scopeSet(held);
  return [...scopeSet(needed)].every((s) => have.has(s));
}

/** The scopes of both space-separated lists, each once, in order of appearance. */
export function unionScopes(a: string | undefined, b: string | undefined): string {
  return [...new Set([...scopeSet(a), ...scopeSet(b)])].join(' ');
}

/**
 * The scope to ask for after `server` refused a token holding `held` with a
 * challenge naming `challengeScope`, and the scopes it named.
 * @throws AuthError `insufficient_scope` when the challenge names none: no sign-in could satisfy it.
 */
export function stepUpScope(
  server: string,
  held: string | undefined,
  challengeScope: string | undefined,
): { scope: string; needed: string } {
  const needed = [...scopeSet(challengeScope)].join(' ');
  if (!needed) {
    throw new AuthError(
      'insufficient_scope',
      `${server} refused the token (insufficient_scope) without naming a scope`,
    );
  }
  return { scope: unionScopes(held, needed), needed };
}
