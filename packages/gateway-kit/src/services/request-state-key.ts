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

/** HKDF info of each purpose's keys (the service or endpoint follows). */
const PURPOSE_INFO = {
  bridge: 'mcp-gateway requestState v1',
  'upstream-sign-in': 'mcp-gateway upstream sign-in requestState v1',
  'federated-url-elicitation': 'mcp-gateway federated URL elicitation requestState v1',
} as const;

/**
 * The HMAC key of one service's `requestState` (HKDF-SHA256 of the shared
 * secret with the service name as info), so a state a bridge issued for one
 * service is refused by every other service. `purpose` `upstream-sign-in`
 * gives the key of the states the gateway itself issues when a user must
 * connect an `http` service's upstream first (another key than any bridge's);
 * `federated-url-elicitation` (with a federated endpoint's path for `service`)
 * the key of those a federated endpoint issues for a member's URL elicitation.
 */
export function requestStateKeyFor(
  secret: Uint8Array,
  service: string,
  purpose: keyof typeof PURPOSE_INFO = 'bridge',
): Uint8Array {
  const info = `${PURPOSE_INFO[purpose]}\0${service}`;
  return new Uint8Array(hkdfSync('sha256', secret, '', info, 32));
}
