// Host names as the HTTP edges check them (DNS-rebinding guards, loopback defaults), one copy for
// the bridge, fetch-server and the client (inlined into each at build time). Web-standard only.

/**
 * The host name of a `Host` header value (or a URL's `host`): port dropped, IPv6 brackets dropped,
 * lower-cased. `[::1]:3000` → `::1`, `LocalHost:80` → `localhost`.
 */
export function hostnameOf(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h;
}

/** The host name of a URL without the brackets of an IPv6 literal, as resolved and as used for SNI. */
export function bareHostname(url: URL): string {
  return hostnameOf(url.host);
}

/** True for `localhost`, 127.0.0.0/8 and `::1` (with or without IPv6 brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}
