// Which authorization pages a user's browser may be sent to (MCP 2026-07-28 security best
// practices, "OAuth Authorization URL Validation"), for every client of an authorization server
// here: the CLI/library (opens the page) and the gateway's upstream sign-in (redirects to it).
import { isLoopbackHost } from './host.js';

/** Why a value is no page a browser may be sent to. */
export type AuthorizationPageRefusal = 'not-a-url' | 'scheme' | 'http-not-loopback';

/**
 * `value` parsed when it is an `https:` URL, or `http:` on a loopback host (`localhost`,
 * 127.0.0.0/8, `[::1]`: local development), an allowlist of schemes; else why not (`javascript:`,
 * `data:`, `file:`, `vbscript:`, `ms-settings:`, … are `scheme`).
 */
export function authorizationPage(value: unknown): URL | AuthorizationPageRefusal {
  if (typeof value !== 'string' || !URL.canParse(value)) return 'not-a-url';
  const url = new URL(value);
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') return 'scheme';
  return isLoopbackHost(url.hostname) ? url : 'http-not-loopback';
}
