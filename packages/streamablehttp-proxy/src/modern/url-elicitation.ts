/**
 * A 2025 child's "URL elicitation required" (`-32042`, MCP 2025-11-25
 * `URLElicitationRequiredError`, `data.elicitations`) for a 2026-07-28
 * client: that revision MUST NOT emit the code (basic/index, "Error Codes")
 * and asks for a page to open with a URL-mode `elicitation/create` input
 * request instead (client/elicitation, "URL Mode Flow"). The pages become
 * `inputRequests` of an `input_required` answer ({@link ModernCall}); the
 * retry replays the call, and the child decides whether the page was opened.
 */
import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { JsonRpcId } from '../jsonrpc.js';
import type { UrlPage } from '@mcp-gateway/internal/url-elicitation-pages';

/** 2025-11-25's URL elicitation required, which 2026-07-28 implementations MUST NOT emit. */
export const URL_ELICITATION_REQUIRED = -32042;

/** The `requiredCapabilities` of a call whose child wants a page opened. */
export const URL_ELICITATION_CAPABILITY = { elicitation: { url: {} } };

/** The `inputRequests` key of the first page (`url_elicitation_2`, … for more). */
const KEY = 'url_elicitation';

/** What the user may answer to a URL-mode elicitation. */
const ACTIONS: ReadonlySet<unknown> = new Set(['accept', 'decline', 'cancel']);

/**
 * The URL-mode `elicitation/create` input requests for `pages`, by key: `url_elicitation`,
 * `url_elicitation_2`, …, skipping keys `taken` says are in use. (2026-07-28 has no
 * `elicitationId`: the retry carries the call's `requestState` instead.)
 */
export function urlInputRequests(
  pages: readonly UrlPage[],
  taken: (key: string) => boolean,
): Record<string, { method: string; params: Record<string, unknown> }> {
  const out: Record<string, { method: string; params: Record<string, unknown> }> = {};
  let n = 0;
  for (const { url, message } of pages) {
    let key = '';
    do key = ++n === 1 ? KEY : `${KEY}_${n}`;
    while (taken(key));
    out[key] = { method: 'elicitation/create', params: { mode: 'url', message, url } };
  }
  return out;
}

/**
 * The error a 2026-07-28 client gets for a child's `-32042` that cannot be asked as input: on
 * a method without input requests, `-32600` naming the pages; without a page to open, `-32603`.
 */
export function urlElicitationError(
  method: string,
  error: Record<string, unknown>,
  pages: readonly UrlPage[],
): { code: number; message: string } {
  const message = typeof error.message === 'string' ? error.message : 'URL elicitation required';
  if (pages.length === 0) {
    return {
      code: JsonRpcCode.InternalError,
      message: `${message} (the MCP server asked for a URL elicitation without a page to open)`,
    };
  }
  const urls = pages.map((p) => p.url).join(', ');
  return {
    code: JsonRpcCode.InvalidRequest,
    message: `${message} (open ${urls} first; ${method} cannot ask for it)`,
  };
}

/**
 * Checks the retry's answers to the pages asked under `keys`: each one given must be an
 * elicitation result (`action` `accept`, `decline` or `cancel`), else `-32602` HTTP 400
 * answering request `id`. Whatever the answer, the call is replayed: the child knows whether
 * the page was opened.
 */
export function checkUrlAnswers(
  keys: readonly string[],
  given: Record<string, unknown> | undefined,
  id: JsonRpcId,
): void {
  for (const k of keys) {
    const r = given && Object.hasOwn(given, k) ? given[k] : undefined;
    if (r === undefined) continue;
    if (typeof r !== 'object' || r === null || !ACTIONS.has((r as { action?: unknown }).action)) {
      throw new BridgeHttpError(
        400,
        JsonRpcCode.InvalidParams,
        `Invalid params: inputResponses.${k} must be an elicitation result (action accept, decline or cancel)`,
        {},
        id,
      );
    }
  }
}
