/**
 * Runtimes whose fetch handlers never learn the client's address: there is
 * no socket, and `info.remoteAddress` cannot be filled in. Rate limits keyed
 * on it would put every client in one bucket, so such a runtime needs an
 * explicit `rateLimitSource` (e.g. the `CF-Connecting-IP` header).
 *
 * Node, Bun and Deno do know the peer (`toNodeListener`,
 * `server.requestIP(req)`, `info.remoteAddr`) and are never named here.
 */
export function runtimeWithoutPeerAddress(): string | undefined {
  const nav = (globalThis as { navigator?: { userAgent?: unknown } }).navigator;
  if (nav?.userAgent === 'Cloudflare-Workers') return 'Cloudflare Workers';
  return undefined;
}
