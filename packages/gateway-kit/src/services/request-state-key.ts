import { hkdfSync, randomBytes } from 'node:crypto';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { sharedStoreSecret } from '../store/shared-secret.js';

/** Store key of the secret every instance sharing the store derives MRTR `requestState` keys from. */
export const REQUEST_STATE_SECRET_KEY = 'gateway:request-state-secret';

/**
 * The secret behind every stdio service's MRTR `requestState` key, shared by
 * all instances on one store (see {@link sharedStoreSecret}). Never logged.
 */
export function sharedRequestStateSecret(
  store: Store,
  random: (n: number) => Buffer = randomBytes,
): Promise<Buffer> {
  return sharedStoreSecret(store, REQUEST_STATE_SECRET_KEY, random);
}

/**
 * The HMAC key of one service's `requestState` (HKDF-SHA256 of the shared
 * secret with the service name as info), so a state a bridge issued for one
 * service is refused by every other service.
 */
export function requestStateKeyFor(secret: Uint8Array, service: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, '', `mcp-gateway requestState v1\0${service}`, 32));
}
