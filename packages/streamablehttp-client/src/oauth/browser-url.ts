/**
 * Which URLs the client opens in a browser or hands to the host to open (MCP 2026-07-28 security
 * best practices, "OAuth Authorization URL Validation"): an allowlist, `https:`, or `http:` where
 * the session's `allowInsecure` rule admits it (by default only on a loopback host, for local
 * development). `javascript:`, `data:`, `file:`, `vbscript:`, `ms-settings:` and every other
 * scheme are refused.
 */
import { UnsafeUrlError } from '../errors.js';
import { loopbackOnlyInsecure, serverText } from './oauth4.js';

/**
 * The URL `url`, parsed, when it may be opened in a browser; else an {@link UnsafeUrlError} that
 * names `what` (e.g. `authorization_endpoint of https://as.example`), the URL and the reason.
 * `allowInsecure` is the session's rule for `http:` URLs (the one its OAuth requests use).
 */
export function checkBrowserUrl(
  url: string,
  what: string,
  allowInsecure: (url: string) => boolean = loopbackOnlyInsecure,
): URL {
  const refuse = (reason: string) =>
    new UnsafeUrlError(url, `refusing to open ${what} ${JSON.stringify(serverText(url))}: ${reason}`, reason);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('it is not a URL');
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:') {
    if (allowInsecure(parsed.href)) return parsed;
    throw refuse(
      `http: is accepted only on a loopback host (localhost, 127.0.0.0/8, [::1]), not ${serverText(parsed.host, 100)}; authorization servers must use https:`,
    );
  }
  throw refuse(
    `the ${serverText(parsed.protocol, 40)} scheme is not allowed; only https: (or http: on a loopback host)`,
  );
}
