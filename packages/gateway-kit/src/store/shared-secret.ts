import { randomBytes } from 'node:crypto';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';

/**
 * A 32-byte secret every gateway instance on one store agrees on: read it, or
 * create 32 random bytes and store them with `compareAndSet` from absent, so
 * of instances starting together exactly one value wins and everybody uses
 * it. Never logged.
 */
export async function sharedStoreSecret(
  store: Store,
  key: string,
  random: (n: number) => Buffer = randomBytes,
): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await store.get<string>(key);
    if (typeof existing === 'string' && existing.length >= 43) return Buffer.from(existing, 'base64url');
    const fresh = random(32).toString('base64url');
    if (await store.compareAndSet(key, existing, fresh)) return Buffer.from(fresh, 'base64url');
  }
  throw new Error(`could not agree on the secret ${key} in the store`);
}
