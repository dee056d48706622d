/**
 * Which URLs the client opens in a browser or hands to the host to open (MCP 2026-07-28 security
 * best practices, "OAuth Authorization URL Validation"): an allowlist, `https:`, or `http:` on a
 * loopback host only (local development), whatever rule the session's OAuth requests follow.
 * `javascript:`, `data:`, `file:`, `vbscript:`, `ms-settings:` and every other scheme are
 * refused, and so is a host name with characters a shell or an opener could read otherwise.
 */
import { authorizationPage } from '@mcp-gateway/internal/authorization-page';
import { UnsafeUrlError } from '../errors.js';
import { serverText } from './oauth4.js';

/** A DNS name (letters, digits, `-`, `_`, dots), an IPv4 literal, or a bracketed IPv6 literal. */
const PLAIN_HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$/;

/**
 * The URL `url`, parsed, when it may be opened in a browser; else an {@link UnsafeUrlError} that
 * names `what` (e.g. `authorization_endpoint of https://as.example`), the URL and the reason.
 */
export function checkBrowserUrl(url: string, what: string): URL {
  const refuse = (reason: string) =>
    new UnsafeUrlError(url, `refusing to open ${what} ${JSON.stringify(serverText(url))}: ${reason}`, reason);
  const page = authorizationPage(url);
  if (page === 'not-a-url') throw refuse('it is not a URL');
  if (page === 'scheme') {
    const scheme = new URL(url).protocol;
    throw refuse(
      `the ${serverText(scheme, 40)} scheme is not allowed; only https: (or http: on a loopback host)`,
    );
  }
  if (page === 'http-not-loopback') {
    throw refuse(
      `http: is accepted only on a loopback host (localhost, 127.0.0.0/8, [::1]), not ${serverText(new URL(url).host, 100)}; authorization servers must use https:`,
    );
  }
  // The WHATWG parser keeps some characters in a host (`"`, `` ` ``, `{`, `}`, …) that it escapes
  // elsewhere, and the page goes to an operating system's opener.
  if (!PLAIN_HOST.test(page.hostname)) {
    throw refuse(`its host ${JSON.stringify(serverText(page.hostname, 100))} is not a plain host name`);
  }
  return page;
}
