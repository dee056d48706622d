// The pages of an MCP 2025-11-25 "URL elicitation required" error (-32042), read the same by the
// bridge (a stdio child's, for 2026-07-28 clients) and the gateway's federated endpoints (a
// member's): both turn them into URL-mode `elicitation/create` input requests.

/** One page a server asks the user to open. */
export interface UrlPage {
  url: string;
  /** Why, shown to the user. */
  message: string;
}

/** Pages one answer asks for at most (a longer list is cut). */
export const MAX_URL_PAGES = 8;

/**
 * The pages of a `-32042`'s `data`: each `elicitations` entry in URL mode (or without a mode)
 * with an absolute `http:`/`https:` `url`, at most {@link MAX_URL_PAGES}; other entries are
 * skipped. A missing `message` is a generic one.
 */
export function urlPagesOf(data: unknown): UrlPage[] {
  const list = (data as { elicitations?: unknown } | null | undefined)?.elicitations;
  if (!Array.isArray(list)) return [];
  const pages: UrlPage[] = [];
  for (const e of list) {
    if (pages.length === MAX_URL_PAGES) break;
    if (typeof e !== 'object' || e === null) continue;
    const { mode, url, message } = e as { mode?: unknown; url?: unknown; message?: unknown };
    if ((mode !== undefined && mode !== 'url') || typeof url !== 'string' || !webPage(url)) continue;
    pages.push({ url, message: typeof message === 'string' ? message : 'Open this page to continue.' });
  }
  return pages;
}

/** True for an absolute `http:` or `https:` URL: a page to open in a browser. */
function webPage(url: string): boolean {
  return URL.canParse(url) && /^https?:$/.test(new URL(url).protocol);
}
