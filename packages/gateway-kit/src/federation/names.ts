/**
 * Names of a federated endpoint's items: the members' lists merged under a
 * {@link PrefixMode}, and the way back from a shown name to its owner.
 */
import type { PrefixMode } from './config.js';

/** Who serves a shown item, and under which name it knows it. */
export interface Owner {
  service: string;
  original: string;
}

/** One member's items, as it listed them. */
export interface MemberItems<T> {
  service: string;
  items: T[];
}

/** A merged list: the items as shown, and each shown name's owner. */
export interface Merged<T> {
  items: T[];
  owners: Map<string, Owner>;
  /** Items left out because another member had the name first (shown name, service). */
  dropped: Owner[];
}

/**
 * Merges the members' lists in member order. `key` is the item's name field
 * (`name` for tools and prompts, `uri`/`uriTemplate` for resources, which are
 * merged with `never`: URIs are not rewritten). Under `conditional` a name two
 * members list is prefixed in both; a shown name already taken (under `never`,
 * or a prefixed name equal to another member's own) keeps the first member's
 * item and drops the later one.
 */
export function mergeNamed<T extends object>(
  lists: MemberItems<T>[],
  key: string,
  mode: PrefixMode,
  separator: string,
): Merged<T> {
  const count = new Map<string, number>();
  if (mode === 'conditional') {
    for (const l of lists) {
      for (const name of new Set(l.items.map((i) => nameOf(i, key))))
        count.set(name, (count.get(name) ?? 0) + 1);
    }
  }
  const items: T[] = [];
  const owners = new Map<string, Owner>();
  const dropped: Owner[] = [];
  for (const l of lists) {
    for (const item of l.items) {
      const original = nameOf(item, key);
      const prefixed = mode === 'always' || (mode === 'conditional' && (count.get(original) ?? 0) > 1);
      const shown = prefixed ? `${l.service}${separator}${original}` : original;
      if (owners.has(shown)) {
        dropped.push({ service: l.service, original });
        continue;
      }
      owners.set(shown, { service: l.service, original });
      items.push(shown === original ? item : { ...item, [key]: shown });
    }
  }
  return { items, owners, dropped };
}

function nameOf(item: object, key: string): string {
  const v = (item as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : '';
}

/**
 * The owner of a shown name without any list, where the mode allows: under
 * `always` the name is `<service><separator><name>` with `service` a member.
 */
export function ownerByPrefix(
  name: string,
  members: readonly string[],
  separator: string,
): Owner | undefined {
  const at = name.indexOf(separator);
  if (at <= 0) return undefined;
  const service = name.slice(0, at);
  return members.includes(service) ? { service, original: name.slice(at + separator.length) } : undefined;
}

/**
 * A matcher of URIs against an RFC 6570 template: literal text must match,
 * a simple `{var}` stands for one path segment, any other expression
 * (`{+var}`, `{/var}`, `{?q}`, …) for any text.
 */
export function templateMatcher(template: string): RegExp {
  let pattern = '';
  for (const part of template.split(/(\{[^}]*\})/)) {
    if (!part) continue;
    if (part.startsWith('{')) pattern += /^\{[A-Za-z0-9_,.%]*\}$/.test(part) ? '[^/?#]*' : '.*';
    else pattern += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}
