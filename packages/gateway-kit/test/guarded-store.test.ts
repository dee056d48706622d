import { MemoryStore, OAuthError, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { describe, expect, it } from 'vitest';
import { guardedStore } from '../src/store/guarded.js';

const hanging: Store = {
  get: () => new Promise(() => {}),
  set: () => new Promise(() => {}),
  delete: () => new Promise(() => {}),
  take: () => new Promise(() => {}),
  increment: () => Promise.reject(new Error('ECONNREFUSED')),
  compareAndSet: () => new Promise(() => {}),
  addToSet: () => new Promise(() => {}),
  removeFromSet: () => new Promise(() => {}),
  members: () => new Promise(() => {}),
  close: async () => {},
};

describe('store outages', () => {
  it('an operation that hangs becomes 503 temporarily_unavailable with Retry-After', async () => {
    const err = (await guardedStore(hanging, 20)
      .get('k')
      .catch((e: unknown) => e)) as OAuthError;
    expect(err).toBeInstanceOf(OAuthError);
    expect([err.status, err.error, err.description, err.headers]).toEqual([
      503,
      'temporarily_unavailable',
      'the store is unavailable; try again shortly',
      { 'retry-after': '5' },
    ]);
  });

  it('an operation that fails becomes the same 503, without the cause in the message', async () => {
    const err = (await guardedStore(hanging, 1000)
      .increment('k', 1000)
      .catch((e: unknown) => e)) as OAuthError;
    expect([err.status, err.description]).toEqual([503, 'the store is unavailable; try again shortly']);
    expect(err.message).not.toContain('ECONNREFUSED');
  });

  it('a healthy store passes values through unchanged', async () => {
    const s = guardedStore(new MemoryStore());
    await s.set('a', { v: 1 }, 10_000);
    expect(await s.get('a')).toEqual({ v: 1 });
    expect(await s.take('a')).toEqual({ v: 1 });
    expect(await s.get('a')).toBeUndefined();
  });
});
