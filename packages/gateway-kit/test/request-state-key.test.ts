// The MRTR requestState key of stdio services: one secret per store, agreed
// on by every instance, and one derived key per service.
import { MemoryStore } from '@mcp-gateway/oauth-dynamicclient';
import { describe, expect, it } from 'vitest';
import {
  REQUEST_STATE_SECRET_KEY,
  requestStateKeyFor,
  sharedRequestStateSecret,
} from '../src/services/request-state-key.js';

describe('request-state key', () => {
  it('instances starting together on one store agree on one secret, created once and kept', async () => {
    const store = new MemoryStore();
    const secrets = await Promise.all(Array.from({ length: 5 }, () => sharedRequestStateSecret(store)));
    expect(secrets[0]!.byteLength).toBe(32);
    for (const s of secrets) expect(s.equals(secrets[0]!)).toBe(true);
    expect(Buffer.from((await store.get<string>(REQUEST_STATE_SECRET_KEY))!, 'base64url')).toEqual(
      secrets[0],
    );
    expect((await sharedRequestStateSecret(store)).equals(secrets[0]!)).toBe(true);
    // Another store (another deployment) gets another secret.
    expect((await sharedRequestStateSecret(new MemoryStore())).equals(secrets[0]!)).toBe(false);
  });

  it('each service gets its own key from one secret, the same on every instance', () => {
    const secret = Buffer.alloc(32, 7);
    const alpha = requestStateKeyFor(secret, 'alpha');
    expect(alpha.byteLength).toBe(32);
    expect(Buffer.from(requestStateKeyFor(Buffer.alloc(32, 7), 'alpha'))).toEqual(Buffer.from(alpha));
    expect(Buffer.from(requestStateKeyFor(secret, 'beta'))).not.toEqual(Buffer.from(alpha));
    expect(Buffer.from(alpha)).not.toEqual(secret);
  });
});
