/**
 * Issuer binding (MCP 2026-07-28, SEP-2352): credentials are keyed by the
 * issuer that gave them, and never sent to another authorization server.
 */
import { AuthError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TokenStore } from '../store/types.js';

/**
 * Called when the resource's metadata names authorization server `issuer`:
 * what is stored for `server` at any other issuer (client registration,
 * tokens) is discarded with a warning; the next sign-in registers at the new
 * one. A pre-registered client (`staticClientId`) stored for the old one is an
 * `authorization_server_changed` error instead: its id means nothing at the new one.
 */
export async function forgetOtherAuthorizationServers(
  store: TokenStore,
  server: string,
  issuer: string,
  staticClientId: string | undefined,
  log: Logger,
): Promise<void> {
  const others = (await store.list(server)).filter((rec) => rec.issuer !== issuer);
  const moved = others.find(
    (rec) => rec.client?.source === 'static' && rec.client.client_id === staticClientId,
  );
  if (moved) {
    // Pre-registered credentials belong to one AS: say so rather than try them at another.
    throw new AuthError(
      'authorization_server_changed',
      `${server} now names authorization server ${issuer}, but client ${staticClientId} is registered at ${moved.issuer}; pre-registered credentials are specific to one authorization server (MCP 2026-07-28): register a client at the new one and pass its id`,
    );
  }
  for (const rec of others) {
    log.warn(
      'the resource moved to another authorization server; discarding the credentials of the old one',
      {
        server,
        from: rec.issuer,
        to: issuer,
      },
    );
    await store.delete(server, rec.issuer);
  }
}
