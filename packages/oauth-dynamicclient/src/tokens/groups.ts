/**
 * Group memberships an identity provider reported at sign-in, as they travel
 * in authorization codes, refresh-token records and the access token's
 * `groups` claim: bounded so that a user in thousands of groups cannot grow
 * every token (and every request header) without limit.
 */

/** Most groups carried; beyond it the first ones in sorted order are kept. */
export const MAX_GROUPS = 100;
/** Longest group carried, in characters; longer values are dropped. */
export const MAX_GROUP_LENGTH = 256;

/**
 * The groups of `value` as carried: strings of 1 to {@link MAX_GROUP_LENGTH}
 * characters, without duplicates, sorted, at most {@link MAX_GROUPS}.
 * `undefined` when none remain (or `value` is not an array).
 */
export function boundedGroups(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const kept = new Set<string>();
  for (const g of value) {
    if (typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_LENGTH) kept.add(g);
  }
  if (kept.size === 0) return undefined;
  return [...kept].sort().slice(0, MAX_GROUPS);
}
