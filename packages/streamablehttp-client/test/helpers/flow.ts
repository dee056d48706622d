/** Test helpers for driving a login as a person's browser would: follow the printed URL with an HTTP client. */
import { setTimeout as delay } from 'node:timers/promises';
import { createOAuthSession, MemoryTokenStore, type OAuthSession } from '../../src/index.js';

/**
 * Follows `url` through redirects (loopback only) with fetch, the way a
 * browser would after the user consents, and returns the last response
 * (the client's callback page).
 */
export async function followAuthorizationUrl(
  url: string,
  opts: { maxHops?: number; cookie?: string } = {},
): Promise<Response> {
  let next = url;
  for (let hop = 0; hop < (opts.maxHops ?? 10); hop++) {
    const u = new URL(next);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
      throw new Error(`refusing to follow non-loopback ${next}`);
    const res = await fetch(next, {
      redirect: 'manual',
      headers: opts.cookie ? { cookie: opts.cookie } : {},
    });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      next = new URL(location, next).href;
      continue;
    }
    return res;
  }
  throw new Error('too many redirects');
}

/**
 * A stand-in for the user's browser: every announced sign-in URL is followed
 * (consent included) with an HTTP client. `pages` holds the callback pages.
 */
export function autoBrowser(): {
  onAuthorizationUrl: (url: string) => void;
  urls: string[];
  pages: Array<Promise<Response>>;
} {
  const urls: string[] = [];
  const pages: Array<Promise<Response>> = [];
  return {
    urls,
    pages,
    onAuthorizationUrl(url) {
      urls.push(url);
      const page = followAuthorizationUrl(url);
      page.catch(() => undefined);
      pages.push(page);
    },
  };
}

/**
 * An OAuth session for `serverUrl` (tokens in memory, no browser) whose user
 * signs in at once the first time and takes `laterMs` over every later
 * sign-in (a step-up, a sign-in after the tokens were revoked). `signIns`
 * holds the announced sign-in URLs.
 */
export function slowLaterSignIns(
  serverUrl: string,
  laterMs: number,
): { session: OAuthSession; signIns: string[] } {
  const signIns: string[] = [];
  const session = createOAuthSession({
    serverUrl,
    store: new MemoryTokenStore(),
    openBrowser: false,
    onAuthorizationUrl: (url) => {
      const wait = signIns.push(url) > 1 ? laterMs : 0;
      void delay(wait).then(() => followAuthorizationUrl(url));
    },
  });
  return { session, signIns };
}
