/**
 * Serves an embedded store to other processes on one unix socket, so that only the
 * serving process (a gateway, or the first of several admin commands) writes the
 * database. LMDB through lmdb-js 3.5 loses committed writes now and then when two
 * processes write one file (measured: 4 processes writing at once lost a commit in
 * about 1 run of 20), so `mcp-gateway users add` and the other admin commands send
 * their reads and writes here while another process serves the store.
 *
 * The socket sits beside the database, mode 0600: whoever may connect may also open
 * the database file itself, so it grants nothing new. A path too long for a unix socket
 * is listened and connected on through `/proc/self/fd` where there is one (`socket-address.ts`);
 * every other use takes the real path.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { countMembers } from '@mcp-gateway/internal/capped-index';
import { isStoreUnavailable, systemClock, type Clock, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { connectSocket, socketAddress, type SocketAddress } from './socket-address.js';
import { readLines, storeRequest, type StoreRequest } from './store-socket-protocol.js';

export interface StoreSocketServerOptions {
  /** At most this many connections at once; more are closed at once (default 32). */
  maxConnections?: number;
  /** At most this many requests in progress per connection; reading pauses beyond (default 64). */
  maxInFlight?: number;
  /** Told of a connection dropped for a bad or oversized line (never given the line). */
  onRefused?: (reason: string) => void;
  /**
   * For tests only (not for production use): the time source of the wait for another process's
   * takeover lock (5 s) and of its staleness (10 s since its mtime), so a test moves a
   * `ManualClock` instead of waiting. The lock is still looked at every 20 ms of wall time.
   * Default: the wall clock.
   */
  clock?: Clock;
}

/** Another live process already serves this store's socket. */
export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
  constructor(readonly socketPath: string) {
    super(
      `the embedded store is in use by another running gateway or admin command (its socket ${socketPath} answers); ` +
        'stop it first, or use store: { type: redis } to run several gateways',
    );
  }
}

/** A running store socket. */
export interface StoreSocketServer {
  readonly path: string;
  /**
   * Waits up to `graceMs` (default 0) for the connections to end, still accepting new ones
   * meanwhile; then ends those left, stops listening and removes the socket file.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Resolves `true` when something accepts a connection on `socketPath` within `timeoutMs`
 * (never when the path is too long to connect on here, see `socketAddress`).
 */
export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connectSocket(socketPath);
    if (!probe) return resolve(false);
    const done = (live: boolean) => {
      clearTimeout(timer);
      probe.destroy();
      resolve(live);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
  });
}

/** Runs one request against `store`; the answer's `r`. */
function run(store: Store, q: StoreRequest): Promise<unknown> {
  switch (q.m) {
    case 'get':
      return store.get(q.k);
    case 'set':
      return store.set(q.k, q.v, q.t);
    case 'delete':
      return store.delete(q.k);
    case 'take':
      return store.take(q.k);
    case 'increment':
      return store.increment(q.k, q.t);
    case 'compareAndSet':
      return store.compareAndSet(q.k, q.x, q.v);
    case 'addToSet':
      return store.addToSet(q.k, q.s);
    case 'removeFromSet':
      return store.removeFromSet(q.k, q.s);
    case 'members':
      return store.members(q.k);
    case 'setSize':
      return countMembers(store, q.k);
    case 'ping':
      return store.ping ? store.ping() : store.get('gateway:ping').then(() => undefined);
  }
}

/**
 * One connection: lines in, answers out. At most `maxInFlight` requests run at once; the
 * rest of what arrived waits (reading pauses meanwhile) until answers go out.
 */
function serveConnection(
  socket: net.Socket,
  store: Store,
  maxInFlight: number,
  refuse: (reason: string) => void,
): void {
  const waiting: string[] = [];
  let inFlight = 0;
  const drop = (reason: string) => {
    refuse(reason);
    waiting.length = 0;
    socket.destroy();
  };
  const write = (message: object) => {
    inFlight--;
    if (socket.destroyed) return;
    socket.write(`${JSON.stringify(message)}\n`);
    pump();
  };
  const start = (line: string): boolean => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      drop('not JSON');
      return false;
    }
    const q = storeRequest.safeParse(parsed);
    if (!q.success) {
      // Field names only: never a value.
      const fields = q.error.issues.map((issue) => issue.path.join('.') || issue.code);
      drop(`not a store request (${[...new Set(fields)].join(', ')})`);
      return false;
    }
    inFlight++;
    // A store method that throws at once is answered like one that rejects.
    Promise.resolve(q.data)
      .then((request) => run(store, request))
      .then(
        (r) => write({ i: q.data.i, r }),
        (err: unknown) =>
          write({
            i: q.data.i,
            e: isStoreUnavailable(err) ? err.message : `storage unavailable (${String(err)})`,
          }),
      );
    return true;
  };
  const pump = () => {
    while (inFlight < maxInFlight && waiting.length > 0) if (!start(waiting.shift()!)) return;
    if (waiting.length > 0 || inFlight >= maxInFlight) socket.pause();
    else socket.resume();
  };
  readLines(
    socket,
    (line) => {
      waiting.push(line);
      pump();
    },
    () => drop('line too long'),
  );
  socket.on('error', () => socket.destroy());
}

/** A takeover lock older than this was left by a process that died in it (a takeover takes milliseconds). */
const STALE_TAKEOVER_MS = 10_000;

/** Takes the folder `lock` (atomic `mkdir`), waiting up to 5 s of `clock` for another process's; `false` if it stays. */
async function takeLock(lock: string, clock: Clock): Promise<boolean> {
  const until = clock.now() + 5000;
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // The folder's time is the file system's (wall time), so its age is measured on the wall clock.
    const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > STALE_TAKEOVER_MS)
      rmSync(lock, { recursive: true, force: true });
    else if (clock.now() > until) return false;
    else await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Replaces a socket file nobody answers on (left by a process that died) and listens, one
 * process at a time: two that found it dead at once must not each remove the other's new
 * socket. A `<socket>.takeover` folder is the lock.
 */
async function replacingStale(socketPath: string, listen: () => Promise<void>, clock: Clock): Promise<void> {
  const lock = `${socketPath}.takeover`;
  if (!(await takeLock(lock, clock))) throw new StoreInUseError(socketPath);
  try {
    if (await socketAnswers(socketPath)) throw new StoreInUseError(socketPath);
    rmSync(socketPath, { force: true });
    await listen();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Serves `store` on `socketPath`. A socket file left by a process that died is replaced;
 * one that answers means another gateway serves the store: {@link StoreInUseError}. A path
 * longer than a unix socket takes is listened on through `/proc/self/fd/<fd of its folder>`
 * (Linux), the folder kept open until the server has closed; where there is no such thing
 * (macOS), it fails with `ENAMETOOLONG` (`syscall: 'listen'`).
 */
export async function serveStore(
  store: Store,
  socketPath: string,
  options: StoreSocketServerOptions = {},
): Promise<StoreSocketServer> {
  const maxInFlight = options.maxInFlight ?? 64;
  const refuse = options.onRefused ?? (() => {});
  const sockets = new Set<net.Socket>();
  /** Set while closing: ends the server once no connection is left. */
  let whenIdle: (() => void) | undefined;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      whenIdle?.();
    });
    serveConnection(socket, store, maxInFlight, refuse);
  });
  server.maxConnections = options.maxConnections ?? 32;
  /** What the server listens on, released once it has closed (libuv removes the socket file through it). */
  let address: SocketAddress | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      address = socketAddress(socketPath);
      if (!address) {
        const err = Object.assign(new Error(`listen ENAMETOOLONG ${socketPath}`), {
          code: 'ENAMETOOLONG',
          syscall: 'listen',
          path: socketPath,
        });
        return reject(err);
      }
      const failed = (err: NodeJS.ErrnoException) => {
        address?.release();
        reject(err.code === 'EADDRINUSE' ? new StoreInUseError(socketPath) : err);
      };
      server.once('error', failed);
      server.listen(address.path, () => {
        server.removeListener('error', failed);
        resolve();
      });
    });
  if (existsSync(socketPath)) await replacingStale(socketPath, listen, options.clock ?? systemClock);
  else await listen();
  try {
    chmodSync(socketPath, 0o600);
  } catch (err) {
    await new Promise((r) => server.close(r));
    address?.release();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    path: socketPath,
    close(graceMs = 0) {
      // Listening goes on while connections remain, so that a process arriving meanwhile
      // joins this one instead of opening the database beside it.
      closing ??= new Promise<void>((resolve) => {
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          clearTimeout(timer);
          // libuv removes the socket file as the listener closes, through the path it listens on.
          server.close(() => {
            address?.release();
            resolve();
          });
          for (const socket of sockets) socket.destroy();
        };
        const timer = setTimeout(end, graceMs);
        whenIdle = () => {
          if (sockets.size === 0) end();
        };
        whenIdle();
      });
      return closing;
    },
  };
}
