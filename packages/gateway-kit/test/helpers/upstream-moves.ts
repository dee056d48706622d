// An upstream whose authorization server moves (MCP 2026-07-28 authorization, "Authorization
// Server Binding"): stub upstreams on 127.0.0.1, gateway instances on one store, and what the
// tests look at (a user's MCP session, the stored tokens, the requests the new server received).
import type { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { afterAll } from 'vitest';
import { issueToken } from '../../src/gateway/cli-token.js';
import type { CreateGatewayOptions, Gateway } from '../../src/gateway/create.js';
import { createLogger } from '../../src/ops/logger.js';
import { listeningGateway } from './listening.js';
import { sdk1Client } from './mcp-clients.js';
import { startOAuthUpstream, type OAuthUpstream } from './oauth-upstream.js';
import { PAGES_ISSUER } from './upstream-pages.js';

/** The client registered by hand with both authorization servers (same id, as a careless operator might do). */
export const HAND = { clientId: 'hand-client', clientSecret: 'hand-secret-1' };

const servers: OAuthUpstream[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A stub upstream named `name`, closed after the file's tests. */
export async function stubUpstream(name: string): Promise<OAuthUpstream> {
  const up = await startOAuthUpstream(name);
  servers.push(up);
  return up;
}

/** An upstream MCP server on its authorization server A (`rs`), and the authorization server B it may move to (`next`). */
export async function upstreamThatMoves(): Promise<{ rs: OAuthUpstream; next: OAuthUpstream }> {
  const rs = await stubUpstream('A');
  const next = await stubUpstream('B');
  for (const s of [rs, next])
    s.clients.set(HAND.clientId, [`${PAGES_ISSUER}/account/upstream/callback/hand`]);
  return { rs, next };
}

/** The upstream's RFC 9728 document names B from now on; its MCP endpoint takes B's tokens. */
export function move(rs: OAuthUpstream, next: OAuthUpstream): void {
  rs.authorizationServers = [next.issuer];
  rs.trusts = [next];
}

/**
 * One gateway instance on `store` with the services `remote` (dynamic registration) and `hand`
 * (configured client) of upstream `rs`; its log lines go to `lines`.
 */
export async function instance(
  rs: OAuthUpstream,
  store: MemoryStore,
  opts: { hand?: Record<string, string>; lines?: Record<string, unknown>[]; now?: () => number } = {},
): Promise<{ gw: Gateway; url: string }> {
  const lines = opts.lines ?? [];
  const options: CreateGatewayOptions = {
    store,
    logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
    ...(opts.now ? { now: opts.now } : {}),
  };
  const { gw, url } = await listeningGateway(
    {
      services: {
        remote: { type: 'http', url: rs.resource, credentials: { type: 'oauth' } },
        hand: { type: 'http', url: rs.resource, credentials: { type: 'oauth', ...(opts.hand ?? HAND) } },
      },
    },
    {},
    options,
  );
  for (const user of ['alice', 'bob']) await gw.users.put(user, `${user}-password-1`);
  return { gw, url };
}

/** `user`'s MCP session with `service` through the gateway at `url`: connected, or the error it got. */
export async function mcpOf(gw: Gateway, url: string, user: string, service: string): Promise<unknown> {
  const { access_token } = await issueToken(gw, user, service);
  try {
    await (await sdk1Client(`${url}/${service}/mcp`, access_token, {})).close();
    return 'connected';
  } catch (err) {
    return err;
  }
}

/** The sealed token record of `user` for `service` (`undefined`: none). */
export const stored = (store: Pick<MemoryStore, 'get'>, service: string, user: string) =>
  store.get(`gateway:upstream-tokens:${service} local:${user}`);

/** Paths of `s`'s sign-in endpoints requested (nothing of another server's may reach them). */
export const signInHits = (s: OAuthUpstream) =>
  s.hits.filter((p) => ['/register', '/token', '/authorize', '/revoke'].includes(p));
