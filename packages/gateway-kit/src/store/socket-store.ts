/**
 * A {@link Store} that forwards every call to the process serving an embedded store on its
 * socket (`store-socket-server.ts`): what the admin commands use while a gateway (or another
 * command) serves it, so that one process alone writes the database.
 */
import type { Socket } from 'node:net';
import { StoreUnavailableError, type Store } from '@mcp-gateway/oauth-dynamicclient';
import { connectSocket } from './socket-address.js';
import { readLines, storeAnswer } from './store-socket-protocol.js';

export interface SocketStoreOptions {
  /** Each call fails with {@link StoreUnavailableError} after this many ms without an answer (default 10 000). */
  timeoutMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: StoreUnavailableError): void;
  timer: NodeJS.Timeout;
}

/** Calls of one method, by field (see the protocol module). */
type Call = { m: string; k?: string; v?: unknown; t?: number; x?: unknown; s?: string };

/** The embedded store of the process that serves it on its socket, reached through that socket. */
export class SocketStore implements Store {
  private readonly socket: Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private next = 0;
  private failure: StoreUnavailableError | undefined;

  private constructor(
    readonly path: string,
    socket: Socket,
    options: SocketStoreOptions,
  ) {
    this.socket = socket;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    readLines(
      socket,
      (line) => this.settle(line),
      () => this.fail('an answer was too long'),
    );
    socket.on('error', (err) => this.fail(err.message));
    socket.on('close', () => this.fail('the gateway closed the store socket'));
  }

  /**
   * Connects to the store socket at `path` and checks that it answers (a `ping`); resolves
   * `undefined` when nothing answers there within `connectTimeoutMs` (default 5000; no
   * process serves it, one that died left the file, or one was just closing it), and at once
   * when `path` is too long to connect on here (longer than a unix socket takes, and no
   * `/proc/self/fd` to reach it by a shorter one, see `socket-address.ts`).
   */
  static connect(
    path: string,
    options: SocketStoreOptions & { connectTimeoutMs?: number } = {},
  ): Promise<SocketStore | undefined> {
    return new Promise((resolve) => {
      const socket = connectSocket(path);
      if (!socket) return resolve(undefined);
      const fail = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(undefined);
      };
      const timer = setTimeout(fail, options.connectTimeoutMs ?? 5000);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.removeListener('error', fail);
        const store = new SocketStore(path, socket, options);
        // A server that was closing may accept and then drop the connection: only an answer counts.
        store.ping().then(() => {
          clearTimeout(timer);
          resolve(store);
        }, fail);
      });
    });
  }

  private settle(line: string): void {
    let parsed: ReturnType<typeof storeAnswer.safeParse>;
    try {
      parsed = storeAnswer.safeParse(JSON.parse(line));
    } catch {
      return this.fail('an answer was not JSON');
    }
    if (!parsed.success || parsed.data.i === null) return this.fail('an answer was malformed');
    const waiter = this.pending.get(parsed.data.i);
    if (!waiter) return;
    this.pending.delete(parsed.data.i);
    clearTimeout(waiter.timer);
    if ('e' in parsed.data) waiter.reject(new StoreUnavailableError(parsed.data.e));
    else waiter.resolve(parsed.data.r);
  }

  /** Ends the connection and fails every call in progress and to come. */
  private fail(reason: string): void {
    this.failure ??= new StoreUnavailableError(`storage unavailable (embedded store socket: ${reason})`);
    this.socket.destroy();
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(this.failure);
    }
    this.pending.clear();
  }

  private call<T>(request: Call): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const i = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(i);
        reject(new StoreUnavailableError('storage unavailable (embedded store socket: no answer in time)'));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(i, { resolve: resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ i, ...request })}\n`);
    });
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.call({ m: 'get', k: key });
  }
  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.call({ m: 'set', k: key, v: value, t: ttlMs });
  }
  delete(key: string): Promise<boolean> {
    return this.call({ m: 'delete', k: key });
  }
  take<T>(key: string): Promise<T | undefined> {
    return this.call({ m: 'take', k: key });
  }
  increment(key: string, ttlMs: number): Promise<number> {
    return this.call({ m: 'increment', k: key, t: ttlMs });
  }
  compareAndSet(key: string, expected: unknown, value: unknown): Promise<boolean> {
    return this.call({ m: 'compareAndSet', k: key, x: expected, v: value });
  }
  addToSet(key: string, member: string): Promise<void> {
    return this.call({ m: 'addToSet', k: key, s: member });
  }
  removeFromSet(key: string, member: string): Promise<void> {
    return this.call({ m: 'removeFromSet', k: key, s: member });
  }
  members(key: string): Promise<string[]> {
    return this.call({ m: 'members', k: key });
  }
  setSize(key: string): Promise<number> {
    return this.call({ m: 'setSize', k: key });
  }
  ping(): Promise<void> {
    return this.call({ m: 'ping' });
  }
  close(): Promise<void> {
    if (!this.failure) this.failure = new StoreUnavailableError('storage unavailable (store closed)');
    // Sent once what is queued is; a gateway that never closes its side does not hold this process.
    this.socket.end();
    this.socket.unref();
    return Promise.resolve();
  }
}
