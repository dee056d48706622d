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
 * service is refused by every other service. `purpose` `upstream-sign-in`
 * gives the key of the states the gateway itself issues when a user must
 * connect an `http` service's upstream first (another key than any bridge's).
 */
export function requestStateKeyFor(
  secret: Uint8Array,
  service: string,
  purpose: 'bridge' | 'upstream-sign-in' = 'bridge',
): Uint8Array {
  const info =
    purpose === 'bridge'
      ? `mcp-gateway requestState v1\0${service}`
      : `mcp-gateway upstream sign-in requestState v1\0${service}`;
  return new Uint8Array(hkdfSync('sha256', secret, '', info, 32));
}
