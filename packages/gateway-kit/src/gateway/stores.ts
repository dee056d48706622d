import path from 'node:path';
import { keyvStore, MemoryStore, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { RedisStore } from '@mcp-gateway/oauth-dynamicclient/redis';
import Keyv from 'keyv';
import type { GatewayConfig } from '../config/schema.js';
import { FileKeyvAdapter } from '../store/file-adapter.js';
import { guardedStore } from '../store/guarded.js';

/** Where the file store lives: `store.path`, else `<dataDir>/store.json`, relative to `cwd`. */
export function storeFile(config: GatewayConfig, cwd: string): string {
  const p =
    config.store.type === 'file' && config.store.path
      ? config.store.path
      : path.join(config.dataDir, 'store.json');
  return path.resolve(cwd, p);
}

/**
 * The store named by the config: `file` (Keyv over {@link FileKeyvAdapter},
 * through oauth-dynamicclient's `keyvStore`), `memory`, or `redis` (atomic
 * across instances).
 */
export function createStore(config: GatewayConfig, cwd: string): Store {
  switch (config.store.type) {
    case 'file':
      return keyvStore(new Keyv({ store: new FileKeyvAdapter({ file: storeFile(config, cwd) }) }));
    case 'memory':
      return new MemoryStore();
    case 'redis':
      return guardedStore(
        new RedisStore({ url: config.store.url, namespace: config.store.prefix.replace(/:$/, '') }),
      );
  }
}

/** True when the store answers within `timeoutMs`. */
export async function storeReachable(store: Store, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      store.get('gateway:ping').then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
