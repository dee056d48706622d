import { createHash, randomBytes } from 'node:crypto';
import type { IdentityProvider, Store, UpstreamIdentity } from '@mcp-gateway/oauth-dynamicclient';

/** Query parameter of `/callback` that carries a ticket instead of an upstream login. */
export const TICKET_PARAM = 'gateway_ticket';
const key = (ticket: string) => `gateway:ticket:${createHash('sha256').update(ticket).digest('base64url')}`;

/**
 * Wraps an identity provider so that an operator with access to the store
 * (`mcp-gateway token`) can sign a user in without their password: a ticket
 * is a 256-bit random, single-use (atomic take), 60-second value naming the
 * identity, kept hashed in the store. A callback without a ticket goes to
 * the wrapped provider as usual; a wrong ticket fails like a bad code.
 * `onLogin` hears of every successful sign-in (for audit webhooks).
 */
export function withTickets(
  inner: IdentityProvider,
  store: Store,
  onLogin?: (identity: UpstreamIdentity, via: 'idp' | 'ticket') => void,
): IdentityProvider {
  return {
    id: inner.id,
    attach: (c) => inner.attach?.(c),
    routes: () => inner.routes?.() ?? [],
    begin: (input) => inner.begin(input),
    async complete(input) {
      const ticket = input.params.get(TICKET_PARAM);
      if (ticket === null) {
        const identity = await inner.complete(input);
        onLogin?.(identity, 'idp');
        return identity;
      }
      const identity = ticket.length === 43 ? await store.take<UpstreamIdentity>(key(ticket)) : undefined;
      if (!identity) {
        const { LoginError } = await import('@mcp-gateway/oauth-dynamicclient');
        throw new LoginError('upstream_error', 'sign-in ticket invalid or expired');
      }
      onLogin?.(identity, 'ticket');
      return identity;
    },
  };
}

/** Creates a ticket for `identity` (see {@link withTickets}). */
export async function createTicket(store: Store, identity: UpstreamIdentity): Promise<string> {
  const ticket = randomBytes(32).toString('base64url');
  await store.set(key(ticket), identity, 60_000);
  return ticket;
}
