/**
 * A federated tool's annotations (`readOnlyHint`, …) for policy rules that
 * depend on them: looked up in the members' tool lists as the endpoint merged
 * them for the user (the routing table, remembered as for routing calls; listed
 * when there is none), so a `readOnly` rule decides right on the first call of
 * a session or user, before any `tools/list` of theirs.
 */
import type { Ask, Catalogs } from './catalog.js';

/** The annotations of the tool shown as `name` to `user`, or `undefined` (not listed, or none). */
export async function toolAnnotations(
  catalogs: Catalogs,
  name: string,
  user: string,
  members: readonly string[],
  ask: Ask,
): Promise<Record<string, unknown> | undefined> {
  const table = await catalogs.routing('tools', user, members, ask);
  const annotations = table.items.find((t) => t.name === name)?.annotations;
  return typeof annotations === 'object' && annotations !== null
    ? (annotations as Record<string, unknown>)
    : undefined;
}
