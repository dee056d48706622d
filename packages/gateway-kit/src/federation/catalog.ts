/**
 * The merged lists of a federated endpoint (tools, prompts, resources,
 * resource templates): each member's list followed page by page (up to
 * `maxPages`), members asked in parallel, a failing member left out and
 * logged, and the routing table (shown name → owner) kept per user for a short
 * while so calls need no list of their own.
 */
import type { Logger } from '../ops/logger.js';
import type { FederatedEndpointConfig } from './config.js';
import type { MemberReply } from './member.js';
import { mergeNamed, type MemberItems, type Merged } from './names.js';

/** The list kinds a federated endpoint merges. */
export const LIST_KINDS = {
  tools: { method: 'tools/list', key: 'name', prefixed: true },
  prompts: { method: 'prompts/list', key: 'name', prefixed: true },
  resources: { method: 'resources/list', key: 'uri', prefixed: false },
  resourceTemplates: { method: 'resources/templates/list', key: 'uriTemplate', prefixed: false },
} as const;
export type ListKind = keyof typeof LIST_KINDS;

/** Asks one member: `(service, method, params)` → its reply; `headers`: more request headers (`Mcp-Param-*`). */
export type Ask = (
  service: string,
  method: string,
  params: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<MemberReply>;

/** Milliseconds a routing table stays fresh for calls (a list refreshes it at once). */
export const ROUTING_TTL_MS = 30_000;
/** Routing tables kept at most (oldest dropped first). */
const MAX_TABLES = 1000;

type Item = Record<string, unknown>;

/** Merged lists and routing tables of one federated endpoint. */
export class Catalogs {
  private readonly tables = new Map<string, { merged: Merged<Item>; expires: number }>();
  /** Told of each merged list (the endpoint teaches the metrics its tool names). */
  onMerged: ((kind: ListKind, merged: Merged<Item>) => void) | undefined;

  constructor(
    private readonly config: FederatedEndpointConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The merged list of `kind` over `members` (fresh), remembered as the
   * routing table of `user`.
   */
  async list(kind: ListKind, user: string, members: readonly string[], ask: Ask): Promise<Merged<Item>> {
    const { method, key, prefixed } = LIST_KINDS[kind];
    const lists = await Promise.all(members.map((service) => this.listOne(service, method, kind, ask)));
    const mode = prefixed ? this.config.prefix : 'never';
    const merged = mergeNamed(
      lists.filter((l): l is MemberItems<Item> => l !== undefined),
      key,
      mode,
      this.config.separator,
    );
    for (const d of merged.dropped) {
      this.log.warn('federated: name taken by an earlier member, item left out', {
        endpoint: this.config.path,
        service: d.service,
        name: d.original,
      });
    }
    this.onMerged?.(kind, merged);
    const tableKey = `${user}\n${kind}\n${members.join(',')}`;
    this.tables.delete(tableKey);
    this.tables.set(tableKey, { merged, expires: this.now() + ROUTING_TTL_MS });
    if (this.tables.size > MAX_TABLES) this.tables.delete(this.tables.keys().next().value!);
    return merged;
  }

  /**
   * `service`'s own list of `kind`, told to {@link onMerged} as a merge of that member alone
   * (what the endpoint learns from lists, e.g. `x-mcp-header` declarations); no routing
   * table is kept. Nothing is told when the member's list fails.
   */
  async learnMember(kind: ListKind, service: string, ask: Ask): Promise<void> {
    const { method, key, prefixed } = LIST_KINDS[kind];
    const list = await this.listOne(service, method, kind, ask);
    if (!list) return;
    const mode = prefixed ? this.config.prefix : 'never';
    this.onMerged?.(kind, mergeNamed([list], key, mode, this.config.separator));
  }

  /** The routing table of `user` for `kind`: remembered when fresh, else listed now. */
  async routing(kind: ListKind, user: string, members: readonly string[], ask: Ask): Promise<Merged<Item>> {
    return this.fresh(kind, user, members) ?? this.list(kind, user, members, ask);
  }

  /** The routing table of `user` for `kind` when one is remembered and fresh (no promise, no list). */
  fresh(kind: ListKind, user: string, members: readonly string[]): Merged<Item> | undefined {
    const t = this.tables.get(`${user}\n${kind}\n${members.join(',')}`);
    return t && t.expires > this.now() ? t.merged : undefined;
  }

  /** Forgets the routing tables of `user` (a member said its lists changed). */
  forgetUser(user: string): void {
    for (const key of [...this.tables.keys()]) if (key.startsWith(`${user}\n`)) this.tables.delete(key);
  }

  /** Forgets every routing table (members changed). */
  clear(): void {
    this.tables.clear();
  }

  /** One member's whole list, or `undefined` (logged) when it failed. */
  private async listOne(
    service: string,
    method: string,
    kind: ListKind,
    ask: Ask,
  ): Promise<MemberItems<Item> | undefined> {
    const items: Item[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < this.config.maxPages; page++) {
      const reply = await ask(service, method, cursor === undefined ? {} : { cursor });
      if ('error' in reply) {
        // A member without the capability answers -32601: it simply has none of these.
        if (reply.error.code === -32601) return { service, items };
        this.log.warn('federated: member list failed, its items are left out', {
          endpoint: this.config.path,
          service,
          method,
          code: reply.error.code,
          err: reply.error.message,
        });
        return undefined;
      }
      const got = reply.result[kind];
      if (Array.isArray(got)) {
        for (const i of got) if (typeof i === 'object' && i !== null) items.push(i as Item);
      }
      const next = reply.result.nextCursor;
      if (typeof next !== 'string' || next === '') return { service, items };
      cursor = next;
    }
    this.log.warn('federated: member list has more pages than maxPages, the rest is left out', {
      endpoint: this.config.path,
      service,
      method,
      maxPages: this.config.maxPages,
    });
    return { service, items };
  }
}
