import path from 'node:path';
import { keyvStore, MemoryStore, type Store } from '@mcp-gateway/oauth-dynamicclient';
import Keyv from 'keyv';
import type { GatewayConfig } from '../config/schema.js';
import { EmbeddedStore } from '../store/embedded.js';
import { FileKeyvAdapter } from '../store/file-adapter.js';
import { guardedStore } from '../store/guarded.js';
import { importFileStore, type FileStoreImport } from '../store/import-file-store.js';

/** `store.path` when the store is of `type`, else `<dataDir>/<name>`; relative to `cwd`. */
function storePath(config: GatewayConfig, cwd: string, type: 'file' | 'embedded', name: string): string {
  const p =
    config.store.type === type && config.store.path ? config.store.path : path.join(config.dataDir, name);
  return path.resolve(cwd, p);
}

/** Where the file store lives: `store.path`, else `<dataDir>/store.json`, relative to `cwd`. */
export const storeFile = (config: GatewayConfig, cwd: string): string =>
  storePath(config, cwd, 'file', 'store.json');

/** Where the embedded database lives: `store.path`, else `<dataDir>/store.mdb`, relative to `cwd`. */
export const embeddedStoreFile = (config: GatewayConfig, cwd: string): string =>
  storePath(config, cwd, 'embedded', 'store.mdb');

/**
 * Rate-limit counters (`rl:…`, under any Keyv namespace): one per source and
 * window, living a minute. The file store keeps them in memory, or every
 * counted request would rewrite the file.
 */
export const isRateLimitCounter = (key: string): boolean => /^(?:[^:]*:)?rl:/.test(key);

/**
 * The store named by the config: `embedded` (the default: LMDB in the data
 * dir; imports `<dataDir>/store.json` of the old file store once, reported
 * through `onImport`), `file` (legacy: Keyv over {@link FileKeyvAdapter},
 * through oauth-dynamicclient's `keyvStore`), `memory`, or `redis` (atomic
 * across instances; its client, some 400 files, is loaded only then).
 */
export async function createStore(
  config: GatewayConfig,
  cwd: string,
  onImport?: (done: FileStoreImport) => void,
): Promise<Store> {
  switch (config.store.type) {
    case 'embedded': {
      const store = new EmbeddedStore({
        path: embeddedStoreFile(config, cwd),
        durability: config.store.durability,
      });
      try {
        const done = importFileStore(store, path.resolve(cwd, config.dataDir, 'store.json'));
        if (done) onImport?.(done);
      } catch (err) {
        void store.close();
        throw err;
      }
      return store;
    }
    case 'file':
      return keyvStore(
        new Keyv({
          store: new FileKeyvAdapter({ file: storeFile(config, cwd), memoryOnly: isRateLimitCounter }),
        }),
      );
    case 'memory':
      return new MemoryStore();
    case 'redis': {
      const { RedisStore } = await import('@mcp-gateway/oauth-dynamicclient/redis');
      return guardedStore(
        new RedisStore({ url: config.store.url, namespace: config.store.prefix.replace(/:$/, '') }),
      );
    }
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
