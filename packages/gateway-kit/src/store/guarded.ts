import { countMembers } from '@mcp-gateway/internal/capped-index';
import { OAuthError, type Store } from '@mcp-gateway/oauth-dynamicclient';

/**
 * Bounds every store operation in time. A Redis client that lost its server
 * queues commands until it reconnects, so without this a request would hang;
 * with it the caller gets `503 temporarily_unavailable` (`Retry-After: 5`)
 * after `timeoutMs`, and the gateway recovers by itself once the store is back.
 */
export function guardedStore(inner: Store, timeoutMs = 3000): Store {
  const guard = <T>(_op: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new OAuthError('temporarily_unavailable', 'the store is unavailable; try again shortly', {
              status: 503,
              headers: { 'retry-after': '5' },
            }),
          ),
        timeoutMs,
      );
    });
    return Promise.race([
      p.catch((err: unknown) => {
        if (err instanceof OAuthError) throw err;
        throw new OAuthError('temporarily_unavailable', 'the store is unavailable; try again shortly', {
          status: 503,
          headers: { 'retry-after': '5' },
          cause: err,
        });
      }),
      timeout,
    ]).finally(() => clearTimeout(timer));
  };
  return {
    get<T>(key: string) {
      return guard('get', inner.get<T>(key));
    },
    set: (key, value, ttl) => guard('set', inner.set(key, value, ttl)),
    delete: (key) => guard('delete', inner.delete(key)),
    take<T>(key: string) {
      return guard('take', inner.take<T>(key));
    },
    increment: (key, ttl) => guard('increment', inner.increment(key, ttl)),
    compareAndSet: (key, expected, value) =>
      guard('compareAndSet', inner.compareAndSet(key, expected, value)),
    addToSet: (key, member) => guard('addToSet', inner.addToSet(key, member)),
    removeFromSet: (key, member) => guard('removeFromSet', inner.removeFromSet(key, member)),
    members: (key) => guard('members', inner.members(key)),
    setSize: (key) => guard('setSize', countMembers(inner, key)),
    close: () => inner.close(),
  };
}
