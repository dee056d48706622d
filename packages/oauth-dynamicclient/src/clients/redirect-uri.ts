import { isLoopbackHost } from '@mcp-gateway/internal/host';
import { invalidRedirectUri } from '../http/errors.js';

/** Hosts `http` redirect URIs may use (RFC 8252 §7.3 loopback, plus `localhost`). */
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Schemes that are never redirect targets. */
const forbiddenSchemes = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
  'filesystem:',
  'ws:',
  'wss:',
  'ftp:',
  'mailto:',
  'tel:',
  'view-source:',
]);

/** What kind of redirect a URI is; decides `application_type` when the client gives none. */
export type RedirectKind = 'web' | 'loopback' | 'private-use';

/** Maximum length of one redirect URI. */
export const maxRedirectUriLength = 2000;

/** True for `http://localhost…`, `http://127.0.0.1…`, `http://[::1]…`. */
export function isLoopbackRedirect(url: URL): boolean {
  return url.protocol === 'http:' && loopbackHosts.has(url.hostname);
}

/**
 * True for a redirect URI whose host is a loopback IP literal: `http://127.0.0.1…` or
 * `http://[::1]…` (RFC 8252 §7.3), not `localhost`. A browser sent there reaches a
 * listener on the user's own machine: the redirect cannot carry the user off it.
 * `localhost` is a name the user's device resolves, and RFC 8252 §8.3 advises against it
 * for that reason (misconfigured host name resolution, listeners on other interfaces):
 * a redirect to it is not known to stay on the machine, so it is not counted here.
 */
export function isLoopbackIpRedirect(uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const url = new URL(uri);
  return isLoopbackRedirect(url) && url.hostname !== 'localhost' && !url.username && !url.password;
}

/**
 * Checks one redirect URI against the registration rules and says what kind
 * it is. Matching at `/authorize` is exact string comparison of the raw value
 * (never prefix), so the value is stored as given.
 *
 * - `https:` anywhere;
 * - `http:` only for `localhost`, `127.0.0.1` and `[::1]`;
 * - private-use schemes (`com.example.app:/cb`, RFC 8252 §7.1) for native apps;
 * - never `javascript:`, `data:`, `file:` and friends, fragments, or userinfo.
 *
 * @throws OAuthError `invalid_redirect_uri` with a description naming the problem.
 */
export function checkRedirectUri(raw: string): RedirectKind {
  const shown = JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);
  if (raw.length === 0) throw invalidRedirectUri('redirect URI must not be empty');
  if (raw.length > maxRedirectUriLength) throw invalidRedirectUri(`redirect URI ${shown} is too long`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(raw)) {
    throw invalidRedirectUri(`redirect URI ${shown} contains whitespace, control characters or backslashes`);
  }
  if (raw.includes('#')) throw invalidRedirectUri(`redirect URI ${shown} must not contain a fragment`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidRedirectUri(`redirect URI ${shown} is not an absolute URI`);
  }
  if (forbiddenSchemes.has(url.protocol)) {
    throw invalidRedirectUri(`redirect URI scheme ${url.protocol} is not allowed`);
  }
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(raw)) {
    throw invalidRedirectUri(`redirect URI ${shown} must not contain userinfo`);
  }
  if (url.protocol === 'https:') {
    if (!url.hostname) throw invalidRedirectUri(`redirect URI ${shown} has no host`);
    return 'web';
  }
  if (url.protocol === 'http:') {
    if (loopbackHosts.has(url.hostname)) return 'loopback';
    throw invalidRedirectUri(
      `redirect URI ${shown}: http is allowed only for localhost, 127.0.0.1 and [::1]; use https`,
    );
  }
  // Private-use URI scheme (RFC 8252 §7.1): a scheme of its own, no authority tricks.
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) {
    throw invalidRedirectUri(`redirect URI ${shown} has an invalid scheme`);
  }
  return 'private-use';
}

/**
 * How a redirect URI is shown to users: the host for `https` (`app.example`),
 * scheme and host otherwise (`http://127.0.0.1:7777`), and the scheme alone
 * for private-use URIs (`com.example.app: (app)`).
 */
export function redirectHost(uri: string): string {
  try {
    const u = new URL(uri);
    return u.host ? `${u.protocol === 'https:' ? '' : `${u.protocol}//`}${u.host}` : `${u.protocol} (app)`;
  } catch {
    return uri.slice(0, 100);
  }
}

/**
 * True when `uris` is not empty and every one points at this computer (`localhost`, a
 * `*.localhost` name, 127.0.0.0/8 or `[::1]`, over `http` or `https`): any program on the user's
 * machine can listen there, so whoever gets the code need not be the client the page names.
 */
export function onlyLocalRedirects(uris: readonly string[]): boolean {
  return (
    uris.length > 0 &&
    uris.every((uri) => {
      if (!URL.canParse(uri)) return false;
      const u = new URL(uri);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
      const host = u.hostname.replace(/\.$/, '');
      return isLoopbackHost(host) || host.endsWith('.localhost');
    })
  );
}
