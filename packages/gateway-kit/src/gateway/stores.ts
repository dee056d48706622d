import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  keyvStore,
  MemoryStore,
  systemClock,
  type Clock,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';
import Keyv from 'keyv';
import type { GatewayConfig } from '../config/schema.js';
import { EmbeddedStore } from '../store/embedded.js';
import { FileKeyvAdapter } from '../store/file-adapter.js';
import { guardedStore } from '../store/guarded.js';
import { importFileStore, type FileStoreImport } from '../store/import-file-store.js';
import { SocketStore } from '../store/socket-store.js';
import { socketAddressable } from '../store/socket-address.js';
import { storeSocketPath } from '../store/store-socket-protocol.js';
import { serveStore, socketAnswers, StoreInUseError } from '../store/store-socket-server.js';

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
 * How a process uses the embedded store. Only the process serving the database's socket
 * writes the file (lmdb-js loses commits now and then when several processes write one).
 * - `owner` (a gateway): waits up to 5 s for another process's socket to go (an admin
 *   command ending), then opens the file and serves it; {@link StoreInUseError} when it stays.
 * - `command` (admin commands): through the socket when a process serves it; else opens
 *   the file and serves it itself until it closes (so that commands run at once share it).
 */
export type EmbeddedAccess = 'owner' | 'command';

/** {@link createStore}'s options for an embedded store. */
export interface EmbeddedStoreAccess {
  /** Default `owner`. */
  access?: EmbeddedAccess;
  /** Told when the store cannot be served on its socket (the file system takes no sockets). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
  /**
   * For tests only (not a config key, not for production use): the time source of an owner's
   * 5 s wait for another process's socket to go, so a test moves a `ManualClock` past it
   * instead of waiting it out. The socket is still looked at every 100 ms of wall time.
   * Default: the wall clock.
   */
  clock?: Clock;
}

/** How long an owner waits for another process's store socket to go. */
const OWNER_WAIT_MS = 5000;
/** How long a closing command waits for the commands it serves to finish. */
const COMMAND_GRACE_MS = 30_000;

/** Resolves `true` once nothing answers on `socket`, `false` if something still does after `ms` of `clock`. */
async function socketGone(socket: string, ms: number, clock: Clock): Promise<boolean> {
  const until = clock.now() + ms;
  while (existsSync(socket) && (await socketAnswers(socket))) {
    if (clock.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The embedded store at `file` as `access` says: served by this process, or another's through its socket. */
async function openEmbedded(
  file: string,
  durability: 'commit' | 'flush',
  { access = 'owner', warn = () => {}, clock = systemClock }: EmbeddedStoreAccess,
  onOpen: (store: EmbeddedStore) => void,
): Promise<Store> {
  const socket = storeSocketPath(file);
  // Too long for a unix socket and no /proc/self/fd to reach it by a shorter path (macOS):
  // served by nobody; the README says not to run commands meanwhile.
  const servable = socketAddressable(socket);
  if (servable && access === 'command') {
    const served = await SocketStore.connect(socket);
    if (served) return served;
  }
  if (servable && access === 'owner' && !(await socketGone(socket, OWNER_WAIT_MS, clock)))
    throw new StoreInUseError(socket);
  const store = new EmbeddedStore({ path: file, durability });
  try {
    onOpen(store);
    if (!servable) return store;
    const server = await serveStore(store, socket, {
      onRefused: (reason) => warn('store socket: a connection was dropped', { reason }),
    });
    const close = store.close.bind(store);
    // The socket goes first, once what it serves is done (a gateway does not wait long for commands).
    store.close = async () => {
      await server.close(access === 'owner' ? 1000 : COMMAND_GRACE_MS);
      await close();
    };
    return store;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === 'listen') {
      // The file system takes no sockets (some container volume mounts): served by nobody.
      warn('cannot serve the embedded store on its socket: do not run admin commands meanwhile', {
        socket,
        err: (err as Error).message,
      });
      return store;
    }
    await store.close().catch(() => {});
    // Another command started serving it meanwhile: use theirs.
    const served =
      err instanceof StoreInUseError && access === 'command' && (await SocketStore.connect(socket));
    if (served) return served;
    throw err;
  }
}

/**
 * The store named by the config: `embedded` (the default: LMDB in the data
 * dir, served on its socket or reached through another process's, see
 * {@link EmbeddedAccess}; imports `<dataDir>/store.json` of the old file store
 * once, reported through `onImport`), `file` (legacy: Keyv over {@link FileKeyvAdapter},
 * through oauth-dynamicclient's `keyvStore`), `memory`, or `redis` (atomic
 * across instances; its client, some 400 files, is loaded only then).
 */
export async function createStore(
  config: GatewayConfig,
  cwd: string,
  onImport?: (done: FileStoreImport) => void,
  embedded: EmbeddedStoreAccess = {},
): Promise<Store> {
  switch (config.store.type) {
    case 'embedded':
      return openEmbedded(embeddedStoreFile(config, cwd), config.store.durability, embedded, (store) => {
        const done = importFileStore(store, path.resolve(cwd, config.dataDir, 'store.json'));
        if (done) onImport?.(done);
      });
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
