import { hkdfSync, randomBytes } from 'node:crypto';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';

/** Store key of the secret every instance sharing the store derives MRTR `requestState` keys from. */
export const REQUEST_STATE_SECRET_KEY = 'gateway:request-state-secret';

/**
 * The secret behind every stdio service's MRTR `requestState` key, shared by
 * all instances on one store: read it, or create 32 random bytes and store
 * them with `compareAndSet` from absent, so of instances starting together
 * exactly one value wins and everybody uses it. Never logged.
 */
export async function sharedRequestStateSecret(
  store: Store,
  random: (n: number) => Buffer = randomBytes,
): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await store.get<string>(REQUEST_STATE_SECRET_KEY);
    if (typeof existing === 'string' && existing.length >= 43) return Buffer.from(existing, 'base64url');
    const fresh = random(32).toString('base64url');
    if (await store.compareAndSet(REQUEST_STATE_SECRET_KEY, existing, fresh))
      return Buffer.from(fresh, 'base64url');
  }
  throw new Error('could not agree on the request-state secret in the store');
}

/**
 * The HMAC key of one service's `requestState` (HKDF-SHA256 of the shared
 * secret with the service name as info), so a state a bridge issued for one
 * service is refused by every other service.
 */
export function requestStateKeyFor(secret: Uint8Array, service: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, '', `mcp-gateway requestState v1\0${service}`, 32));
}
