import type { Grants } from './grants.js';
import type { RefreshTokens } from './refresh.js';

/**
 * Keeps at most `max` live token families under one grant (one user and one client): each
 * authorization starts a family that lives as long as its refresh token (30 days by default),
 * so a client that authorizes again and again would otherwise pile up families and their
 * store entries without end. Families whose record expired or that were revoked leave the
 * grant's index; beyond `max` the oldest are revoked (as providers do when a user signs in on
 * too many devices). Runs after each new family, reading the records only past `max`.
 * Returns the ids of the families it revoked.
 */
export async function boundFamilies(
  grants: Grants,
  refresh: RefreshTokens,
  grantId: string,
  max: number,
): Promise<string[]> {
  const ids = await grants.families(grantId);
  if (ids.length <= max) return [];
  const live: { id: string; createdAt: number }[] = [];
  for (const id of ids) {
    const family = await refresh.liveFamily(id);
    if (family) live.push({ id, createdAt: family.createdAt });
    else await grants.removeFamily(grantId, id);
  }
  live.sort((a, b) => a.createdAt - b.createdAt);
  const oldest = live.slice(0, Math.max(0, live.length - max)).map((f) => f.id);
  for (const id of oldest) {
    await refresh.revokeFamily(id);
    await grants.removeFamily(grantId, id);
  }
  return oldest;
}
