import { isObject } from '@mcp-gateway/internal/is-object';
import { digestOf } from '@mcp-gateway/streamablehttp-proxy';
import { tapReplies } from '../gateway/reply-tap.js';

/**
 * The 2026-07-28 methods whose results an upstream may mark `cacheScope: "public"` (MCP 2026-07-28
 * server/utilities/caching, "Cacheable Results"; `resources/read` is left out: it is asked for
 * input like a call, and its answer is the user's document).
 */
export const SHAREABLE_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

/** Most characters of results kept for one service (the oldest go first). */
const MAX_KEPT_CHARS = 2 * 1024 * 1024;
/** Most results kept for one service (one per method and cursor). */
const MAX_KEPT = 32;

/** One kept result, with when it came and how long the upstream said it stays fresh. */
interface Kept {
  result: Record<string, unknown>;
  at: number;
  ttlMs: number;
  chars: number;
}

type Result = Record<string, unknown>;

/**
 * One service's upstream answers that any user may be given: the complete results of
 * {@link SHAREABLE_METHODS} the upstream marked `cacheScope: "public"` ("any client, shared
 * gateway, or caching proxy MAY store and serve the cached response to any user"), seen on the
 * way back to a connected user. A user who has not connected the upstream yet gets them from here
 * (a `server/discover`, the tool list), so a 2026-07-28 client can learn what the service offers
 * and call a tool, which asks the user to connect. Kept in this process's memory (at most
 * {@link MAX_KEPT} results and 2 MiB of text per service), keyed by method and params (its
 * `_meta` aside: the cursor of a page); a later complete answer that is not public forgets it.
 */
export class PublicAnswers {
  private readonly kept = new Map<string, Kept>();
  private chars = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The key of a request for `method` with `params`; `undefined` when its result is never shared. */
  static keyOf(method: string, params: Record<string, unknown>): string | undefined {
    return SHAREABLE_METHODS.has(method) ? `${method} ${digestOf(params, ['_meta'])}` : undefined;
  }

  /**
   * `res`, the upstream's answer to request `id` (under `key`), unchanged: its result is kept on the
   * way through when it is public, and what was kept under `key` is forgotten when it is not.
   */
  watch(res: Response, key: string, id: string | number): Response {
    if (res.status !== 200) return res;
    let satisfied = false;
    return tapReplies(res, {
      get satisfied() {
        return satisfied;
      },
      onResponse: (message) => {
        if (message.id !== id) return;
        satisfied = true;
        if (isObject(message.result)) this.settle(key, message.result);
      },
    });
  }

  /**
   * The result kept under `key`, its `ttlMs` the freshness it has left: `0` once past the
   * upstream's (a stale answer is still what the upstream last said to everyone, and this user
   * cannot have it asked again).
   */
  get(key: string): Result | undefined {
    const k = this.kept.get(key);
    if (!k) return undefined;
    return { ...k.result, ttlMs: Math.max(0, k.ttlMs - (this.now() - k.at)) };
  }

  private settle(key: string, result: Result): void {
    if (result.resultType !== undefined && result.resultType !== 'complete') return;
    this.forget(key);
    const { ttlMs, cacheScope } = result;
    if (cacheScope !== 'public' || typeof ttlMs !== 'number' || !(ttlMs >= 0)) return;
    const chars = JSON.stringify(result).length;
    if (chars > MAX_KEPT_CHARS) return;
    // The oldest go first (a Map iterates in insertion order).
    for (const oldest of this.kept.keys()) {
      if (this.kept.size < MAX_KEPT && this.chars + chars <= MAX_KEPT_CHARS) break;
      this.forget(oldest);
    }
    this.kept.set(key, { result, at: this.now(), ttlMs, chars });
    this.chars += chars;
  }

  private forget(key: string): void {
    const k = this.kept.get(key);
    if (!k) return;
    this.kept.delete(key);
    this.chars -= k.chars;
  }
}
