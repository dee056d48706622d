// The embedded store served on its socket: the running gateway stays the one process that
// writes the LMDB file, and admin commands in other processes go through it.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ManualClock,
  MemoryStore,
  StoreUnavailableError,
  type Store,
} from '@mcp-gateway/oauth-dynamicclient';
import { storeContract } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { createStore } from '../src/gateway/stores.js';
import { EmbeddedStore } from '../src/store/embedded.js';
import { MAX_SOCKET_PATH, socketAddress, socketAddressable } from '../src/store/socket-address.js';
import { SocketStore } from '../src/store/socket-store.js';
import { MAX_LINE_BYTES, storeSocketPath } from '../src/store/store-socket-protocol.js';
import { serveStore, StoreInUseError } from '../src/store/store-socket-server.js';
import { inChild } from './helpers/store-child.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) {
    await c().catch(() => {});
  }
});

const tmpDb = () => path.join(mkdtempSync(path.join(tmpdir(), 'gw-sock-')), 'store.mdb');

async function served(store: Store, file = tmpDb(), options = {}) {
  const server = await serveStore(store, storeSocketPath(file), options);
  cleanup.push(() => server.close());
  return { server, file, socket: storeSocketPath(file) };
}

async function client(socket: string, options = {}): Promise<SocketStore> {
  const store = await SocketStore.connect(socket, options);
  if (!store) throw new Error('no store socket');
  cleanup.push(() => store.close());
  return store;
}

/** A store whose every call waits for `store()`, for the contract's synchronous factory. */
function deferred(ready: Promise<Store>): Store {
  return new Proxy({} as Store, {
    get:
      (_, method: keyof Store) =>
      (...args: unknown[]) =>
        ready.then((s) => (s[method] as (...a: unknown[]) => unknown).apply(s, args)),
  });
}

/** A clock the test moves, counting its reads: an owner waiting for a socket to go reads it at each look. */
class CountingClock extends ManualClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
  /** Resolves once the clock has been read `n` more times. */
  readAgain(n = 1): Promise<void> {
    const until = this.reads + n;
    return vi.waitFor(() => expect(this.reads).toBeGreaterThanOrEqual(until), {
      timeout: 5000,
      interval: 10,
    });
  }
}

/**
 * What `start` begins on a {@link CountingClock} waits until the clock is past `lastWaiting` ms,
 * then fails: still waiting at `lastWaiting` once it has read the clock `looks` more times
 * (looked again), settled 1 ms later. Resolves with what it failed with.
 */
async function givesUpAfter(
  lastWaiting: number,
  looks: number,
  start: (clock: CountingClock) => Promise<unknown>,
): Promise<unknown> {
  const clock = new CountingClock();
  let settled = false;
  const failed = start(clock)
    .catch((e: unknown) => e)
    .finally(() => (settled = true));
  await clock.readAgain(); // its deadline is set
  clock.advance(lastWaiting);
  await clock.readAgain(looks);
  expect(settled).toBe(false);
  clock.advance(1);
  return failed;
}

/** A raw connection to the socket: what the server answers, and whether it closed on us. */
function raw(socket: string) {
  const conn = net.connect(socket);
  let got = '';
  conn.on('data', (d: Buffer) => (got += d.toString()));
  const closed = new Promise<void>((r) => conn.once('close', () => r()));
  conn.on('error', () => {});
  return {
    conn,
    closed,
    answers: () =>
      got
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { i: number; r?: unknown; e?: string }),
  };
}

describe('store contract: the embedded store through its socket', () => {
  const make = () => {
    const clock = new ManualClock(1_700_000_000_000);
    const embedded = new EmbeddedStore({ path: tmpDb(), clock });
    cleanup.push(() => embedded.close());
    const ready = served(embedded, embedded.path).then(({ socket }) => client(socket));
    return { clock, store: deferred(ready) };
  };
  for (const [rule, check] of Object.entries(storeContract)) it(rule, () => check(make));
});

describe('store socket: processes share the store through the gateway', () => {
  it('four processes writing at once through the socket lose no write', async () => {
    const file = tmpDb();
    const store = new EmbeddedStore({ path: file });
    cleanup.push(() => store.close());
    await served(store, file);
    // Each process: 10 rounds of 25 writes at once, each a row and a set member.
    const writer = (n: number) => `let failed = 0;
for (let r = 0; r < 10; r++)
  await Promise.all(Array.from({ length: 25 }, async (_, i) => {
    const k = 'p${n}-' + r + '-' + i;
    await store.set('row:' + k, { k, pad: 'x'.repeat(1500) });
    await store.addToSet('rows', k);
  }));
process.stdout.write(String(store instanceof kit.SocketStore));`;
    const outs = await Promise.all([0, 1, 2, 3].map((n) => inChild(file, writer(n))));
    expect(outs).toEqual(Array(4).fill('true'));
    const members = await store.members('rows');
    expect(members).toHaveLength(1000);
    for (const k of members.slice(0, 50)) expect(await store.get(`row:${k}`)).toMatchObject({ k });
  }, 60_000);

  it('createStore: the owner serves its store; a command goes through it; a second owner is refused', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-sock-cfg-'));
    const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir });
    const owner = await createStore(config, dataDir);
    cleanup.push(() => owner.close());
    expect(owner).toBeInstanceOf(EmbeddedStore);
    const command = await createStore(config, dataDir, undefined, { access: 'command' });
    cleanup.push(() => command.close());
    expect(command).toBeInstanceOf(SocketStore);
    await command.set('from-command', 2);
    expect(await owner.get('from-command')).toBe(2);
    // A second owner waits 5 s (of its clock) for the socket to go, then gives up (one read a look).
    const refused = await givesUpAfter(4999, 2, (clock) =>
      createStore(config, dataDir, undefined, { clock }),
    );
    expect(refused).toBeInstanceOf(StoreInUseError);
    // Closing the owner removes the socket: the next command opens the file and serves it itself.
    await command.close();
    await owner.close();
    expect(existsSync(path.join(dataDir, 'store.mdb.sock'))).toBe(false);
    const alone = await createStore(config, dataDir, undefined, { access: 'command' });
    cleanup.push(() => alone.close());
    expect(alone).toBeInstanceOf(EmbeddedStore);
    expect(await alone.get('from-command')).toBe(2);
  }, 30_000);

  it('createStore: commands run at once share the one that serves; it waits for them before it closes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-sock-cmd-'));
    const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir });
    const first = await createStore(config, dataDir, undefined, { access: 'command' });
    expect(first).toBeInstanceOf(EmbeddedStore);
    const second = await createStore(config, dataDir, undefined, { access: 'command' });
    expect(second).toBeInstanceOf(SocketStore);
    let firstClosed = false;
    const closing = first.close().then(() => (firstClosed = true));
    // The serving command stays until the other is done with it, and one arriving meanwhile joins it.
    await second.set('late', 'kept');
    const third = await createStore(config, dataDir, undefined, { access: 'command' });
    expect(third).toBeInstanceOf(SocketStore);
    await third.set('later', 'kept too');
    await second.close();
    expect(firstClosed).toBe(false);
    await third.close();
    await closing;
    const reopened = await createStore(config, dataDir, undefined, { access: 'command' });
    cleanup.push(() => reopened.close());
    expect(await reopened.get('late')).toBe('kept');
    expect(await reopened.get('later')).toBe('kept too');
  });

  it('an owner waits for a command that serves the store to finish, then serves it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-sock-wait-'));
    const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir });
    const command = await createStore(config, dataDir, undefined, { access: 'command' });
    await command.set('by-command', 1);
    let settled = false;
    const clock = new CountingClock();
    const owner = createStore(config, dataDir, undefined, { clock }).finally(() => (settled = true));
    // It has found the command's socket answering twice (its clock never moves: it would wait on).
    await clock.readAgain(3);
    expect(settled).toBe(false);
    await command.close();
    const store = await owner;
    cleanup.push(() => store.close());
    expect(store).toBeInstanceOf(EmbeddedStore);
    expect(await store.get('by-command')).toBe(1);
  });

  it('createStore: where the file system takes no unix socket, the store is opened without one and a warning says so', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-sock-nofs-'));
    const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir });
    // What listen meets on such a mount (e.g. some container volume drivers).
    const listen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server) {
      const err = Object.assign(new Error('listen ENOTSUP'), { code: 'ENOTSUP', syscall: 'listen' });
      process.nextTick(() => this.emit('error', err));
      return this;
    } as typeof listen;
    const warnings: string[] = [];
    try {
      const store = await createStore(config, dataDir, undefined, { warn: (m) => warnings.push(m) });
      cleanup.push(() => store.close());
      expect(store).toBeInstanceOf(EmbeddedStore);
      await store.set('k', 'v');
      expect(await store.get('k')).toBe('v');
    } finally {
      net.Server.prototype.listen = listen;
    }
    expect(warnings).toEqual([
      'cannot serve the embedded store on its socket: do not run admin commands meanwhile',
    ]);
  });

  it('createStore: a socket name too long even under /proc/self/fd/<fd>/ leaves the store unserved', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-sock-name-'));
    // `/proc/self/fd/<10 digits>/` leaves 78 bytes for the name: this one has 94.
    const file = path.join(dataDir, `${'s'.repeat(85)}.mdb`);
    const config = configSchema.parse({
      issuer: 'http://127.0.0.1:1',
      dataDir,
      store: { type: 'embedded', path: file },
    });
    const store = await createStore(config, dataDir);
    cleanup.push(() => store.close());
    expect(store).toBeInstanceOf(EmbeddedStore);
    await store.set('k', 'v');
    expect(existsSync(storeSocketPath(file))).toBe(false);
  });
});

/** A fresh folder deep enough that `<folder>/store.mdb.sock` is longer than a unix socket path may be. */
function longDir(prefix: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), prefix)), 'a'.repeat(40), 'b'.repeat(40));
  mkdirSync(dir, { recursive: true });
  expect(Buffer.byteLength(storeSocketPath(path.join(dir, 'store.mdb')))).toBeGreaterThan(MAX_SOCKET_PATH);
  return dir;
}

/** This process's open descriptors: how many, and how many are `dir` itself. */
function descriptors(dir: string) {
  const fds = readdirSync('/proc/self/fd');
  const onDir = fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === realpathSync(dir);
    } catch {
      return false; // the one readdirSync had open
    }
  });
  return { count: fds.length, onDir: onDir.length };
}

describe.runIf(existsSync('/proc/self/fd'))(
  'store socket: a store path too long for a unix socket (Linux)',
  () => {
    it('createStore: the owner serves it at the real path (0600); a command in another process goes through it; a second owner is refused', async () => {
      const dataDir = longDir('gw-sock-long-');
      const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir });
      const owner = await createStore(config, dataDir);
      cleanup.push(() => owner.close());
      expect(owner).toBeInstanceOf(EmbeddedStore);
      const file = (owner as EmbeddedStore).path;
      const socket = storeSocketPath(file);
      expect(path.dirname(socket)).toBe(dataDir);
      expect(statSync(socket).isSocket()).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      // Another process reaches it through its own /proc/self/fd.
      const out = await inChild(
        file,
        `await store.set('from-child', 3); process.stdout.write(String(store instanceof kit.SocketStore));`,
      );
      expect(out).toBe('true');
      expect(await owner.get('from-child')).toBe(3);
      const command = await createStore(config, dataDir, undefined, { access: 'command' });
      cleanup.push(() => command.close());
      expect(command).toBeInstanceOf(SocketStore);
      await command.set('from-command', 2);
      expect(await owner.get('from-command')).toBe(2);
      await command.close();
      const clock = new CountingClock();
      const refusing = createStore(config, dataDir, undefined, { clock }).catch((e: unknown) => e);
      await clock.readAgain(); // its 5 s wait for the socket to go has begun
      clock.advance(5000);
      const refused = await refusing;
      expect(refused).toBeInstanceOf(StoreInUseError);
      expect((refused as StoreInUseError).socketPath).toBe(socket);
      expect((refused as Error).message).toContain(socket);
      // Closing removes the socket file at the real path.
      await owner.close();
      expect(existsSync(socket)).toBe(false);
    }, 30_000);

    it('a stale socket file at a long path is replaced', async () => {
      const file = path.join(longDir('gw-sock-stale-'), 'store.mdb');
      const socket = storeSocketPath(file);
      writeFileSync(socket, ''); // what a killed process leaves: a file nobody listens on
      const store = new MemoryStore();
      const { server } = await served(store, file);
      expect(server.path).toBe(socket);
      expect(statSync(socket).isSocket()).toBe(true);
      expect(existsSync(`${socket}.takeover`)).toBe(false);
      await (await client(socket)).set('k', 'v');
      expect(await store.get('k')).toBe('v');
      await expect(serveStore(new MemoryStore(), socket)).rejects.toBeInstanceOf(StoreInUseError);
    });

    it('holds the folder open while it serves, and no descriptor is left after a serve, connect and close', async () => {
      const dir = longDir('gw-sock-fd-');
      const socket = storeSocketPath(path.join(dir, 'store.mdb'));
      const before = descriptors(dir);
      expect(before.onDir).toBe(0);
      const store = new MemoryStore();
      const server = await serveStore(store, socket);
      expect(descriptors(dir).onDir).toBe(1);
      const c = await SocketStore.connect(socket);
      await c!.set('k', 'v');
      expect(await store.get('k')).toBe('v');
      // A failed connect (nothing there) leaves nothing open either.
      expect(await SocketStore.connect(`${socket}-none`)).toBeUndefined();
      await c!.close();
      await server.close();
      expect(existsSync(socket)).toBe(false);
      expect(descriptors(dir).onDir).toBe(0);
      // The connections' own descriptors go once both ends have closed.
      await expect.poll(() => descriptors(dir).count, { timeout: 2000 }).toBe(before.count);
    });
  },
);

describe('socketAddress: a path to listen and connect on', () => {
  it('is the path itself when it fits, whether or not there is a /proc/self/fd', () => {
    const short = path.join(tmpdir(), 'x.sock');
    for (const fdDir of ['/proc/self/fd', '/no/such/proc']) {
      expect(socketAddressable(short, { fdDir })).toBe(true);
      expect(socketAddress(short, { fdDir })?.path).toBe(short);
    }
  });

  it('for a longer path: none without /proc/self/fd (macOS), so the store is not served', () => {
    const long = storeSocketPath(path.join(longDir('gw-sock-noproc-'), 'store.mdb'));
    expect(socketAddressable(long, { fdDir: '/no/such/proc' })).toBe(false);
    expect(socketAddress(long, { fdDir: '/no/such/proc' })).toBeUndefined();
  });

  it.runIf(existsSync('/proc/self/fd'))(
    'for a longer path: its name under the folder opened as a descriptor, closed by release',
    () => {
      const dir = longDir('gw-sock-addr-');
      const long = storeSocketPath(path.join(dir, 'store.mdb'));
      const address = socketAddress(long)!;
      expect(address.path).toMatch(/^\/proc\/self\/fd\/\d+\/store\.mdb\.sock$/);
      expect(Buffer.byteLength(address.path)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
      expect(readlinkSync(path.dirname(address.path))).toBe(realpathSync(dir));
      address.release();
      address.release();
      expect(descriptors(dir).onDir).toBe(0);
    },
  );
});

describe('store socket: the socket file', () => {
  it('is private (0600), refuses a second server while live, replaces one left by a dead process, and goes on close', async () => {
    const store = new MemoryStore();
    const { server, socket, file } = await served(store);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    await expect(serveStore(store, socket)).rejects.toBeInstanceOf(StoreInUseError);
    await server.close();
    expect(existsSync(socket)).toBe(false);
    // What a killed gateway leaves: a socket file nobody listens on (here a plain file in its place).
    writeFileSync(socket, '');
    const again = await served(store, file);
    expect(statSync(again.socket).isSocket()).toBe(true);
    const c = await client(again.socket);
    await c.set('k', 'v');
    expect(await store.get('k')).toBe('v');
  });
});

describe('store socket: replacing a stale socket file', () => {
  it('of five servers started at once over a dead socket file, exactly one serves and it answers', async () => {
    const file = tmpDb();
    const socket = storeSocketPath(file);
    writeFileSync(socket, ''); // what a killed process leaves: a file nobody listens on
    const stores = Array.from({ length: 5 }, () => new MemoryStore());
    const results = await Promise.allSettled(stores.map((s) => serveStore(s, socket)));
    const won = results.flatMap((r, i) =>
      r.status === 'fulfilled' ? [{ server: r.value, store: stores[i]! }] : [],
    );
    expect(won).toHaveLength(1);
    cleanup.push(() => won[0]!.server.close());
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreInUseError);
    await (await client(socket)).set('k', 'v');
    expect(await won[0]!.store.get('k')).toBe('v');
    expect(existsSync(`${socket}.takeover`)).toBe(false);
  });

  /** A dead socket file and a takeover lock beside it, as a process that died mid-takeover leaves them. */
  function deadTakeover() {
    const file = tmpDb();
    const socket = storeSocketPath(file);
    writeFileSync(socket, '');
    mkdirSync(`${socket}.takeover`);
    return { file, socket };
  }

  it('a takeover lock left by a process that died in it is cleared after 10 s', async () => {
    const { file, socket } = deadTakeover();
    const old = new Date(Date.now() - 11_000);
    utimesSync(`${socket}.takeover`, old, old);
    const { server } = await served(new MemoryStore(), file);
    expect(statSync(server.path).isSocket()).toBe(true);
    expect(existsSync(`${socket}.takeover`)).toBe(false);
  });

  it('a fresh takeover lock that stays means another process is at it: refused after 5 s', async () => {
    const { socket } = deadTakeover();
    // Two reads a look at the lock (its age, the deadline): still waiting at 5000 ms after two looks.
    const refused = await givesUpAfter(5000, 4, (clock) => serveStore(new MemoryStore(), socket, { clock }));
    expect(refused).toBeInstanceOf(StoreInUseError);
    expect(existsSync(`${socket}.takeover`)).toBe(true);
  });
});

describe('store socket: bad input and bounds', () => {
  async function refusals() {
    const store = new MemoryStore();
    await store.set('kept', 'yes');
    const reasons: string[] = [];
    const { socket } = await served(store, tmpDb(), { onRefused: (r: string) => reasons.push(r) });
    return { store, reasons, socket };
  }

  it.each([
    ['not JSON', '{"i":1,"m":"get",\n', 'not JSON'],
    ['an unknown method', '{"i":1,"m":"flushall"}\n', 'not a store request (m)'],
    ['a field of the wrong type', '{"i":1,"m":"set","k":7,"v":1}\n', 'not a store request (k)'],
    [
      'an unknown field',
      '{"i":1,"m":"delete","k":"kept","all":true}\n',
      'not a store request (unrecognized_keys)',
    ],
    ['a negative TTL', '{"i":1,"m":"increment","k":"n","t":-5}\n', 'not a store request (t)'],
  ])('%s: the connection is dropped unanswered, the store unchanged', async (_, line, reason) => {
    const { store, reasons, socket } = await refusals();
    const r = raw(socket);
    r.conn.write(line);
    await r.closed;
    expect(r.answers()).toEqual([]);
    expect(reasons).toEqual([reason]);
    expect(await store.get('kept')).toBe('yes');
    expect(await store.get('n')).toBeUndefined();
    // Other connections still work.
    expect(await (await client(socket)).get('kept')).toBe('yes');
  });

  it('a line over the size limit: dropped before it is all read, nothing stored', async () => {
    const { store, reasons, socket } = await refusals();
    const r = raw(socket);
    r.conn.write(`{"i":1,"m":"set","k":"big","v":"${'x'.repeat(MAX_LINE_BYTES)}`);
    await r.closed;
    expect(reasons).toEqual(['line too long']);
    expect(await store.get('big')).toBeUndefined();
  });

  it('at most 64 requests of one connection run at once; the rest wait and are all answered', async () => {
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const slow = new MemoryStore();
    const get = slow.get.bind(slow);
    slow.get = async <T>(key: string) => {
      if (!key.startsWith('k')) return get<T>(key); // the client's ping on connect
      most = Math.max(most, ++running);
      await new Promise<void>((r) => release.push(r));
      running--;
      return get<T>(key);
    };
    const { socket } = await served(slow);
    const c = await client(socket);
    const calls = Array.from({ length: 200 }, (_, i) => c.get(`k${i}`));
    while (release.length < 64) await new Promise((r) => setImmediate(r));
    // Everything has arrived (one write per call), yet only 64 were started.
    await new Promise((r) => setTimeout(r, 50));
    expect(running).toBe(64);
    while (release.length > 0 || running > 0) {
      release.splice(0).forEach((r) => r());
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls)).toEqual(Array(200).fill(undefined));
    expect(most).toBe(64);
  });

  it('a store failure reaches the caller as StoreUnavailableError, also when the store throws at once', async () => {
    const broken = new MemoryStore();
    broken.take = () => {
      throw new Error('disk on fire');
    };
    broken.delete = () => Promise.reject(new StoreUnavailableError('storage unavailable (test)'));
    const c = await client((await served(broken)).socket);
    await expect(c.take('k')).rejects.toThrow(/storage unavailable \(Error: disk on fire\)/);
    await expect(c.delete('k')).rejects.toThrow('storage unavailable (test)');
    await expect(c.delete('k')).rejects.toBeInstanceOf(StoreUnavailableError);
    // The connection stays usable.
    await c.set('k', 1);
    expect(await c.get('k')).toBe(1);
  });

  it('connections beyond maxConnections are closed', async () => {
    const { socket } = await served(new MemoryStore(), tmpDb(), { maxConnections: 2 });
    const a = await client(socket);
    const b = await client(socket);
    await a.set('a', 1);
    await b.set('b', 1);
    const third = raw(socket);
    await third.closed;
    expect(await a.get('a')).toBe(1);
  });
});

describe('store socket: the client when the gateway is gone or silent', () => {
  it('a call after the gateway stopped fails with StoreUnavailableError (503), not a hang', async () => {
    const { server, socket } = await served(new MemoryStore());
    const c = await client(socket);
    await c.set('k', 1);
    await server.close();
    await expect(c.get('k')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(c.set('k', 2)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await SocketStore.connect(socket)).toBeUndefined();
  });

  /** A fake store server: answers the connection's first request (the client's ping) with `{i}`, then each later one with `later(i)` (nothing when `undefined`). */
  async function fakeServer(later: (i: number) => string | undefined) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gw-sock-')), 'fake.sock');
    const held: net.Socket[] = [];
    const fake = net.createServer((s) => {
      held.push(s);
      let first = true;
      s.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          const { i } = JSON.parse(line) as { i: number };
          const reply = first ? `{"i":${i}}` : later(i);
          first = false;
          if (reply !== undefined) s.write(`${reply}\n`);
        }
      });
    });
    await new Promise<void>((r) => fake.listen(file, r));
    cleanup.push(() => new Promise((r) => (held.forEach((s) => s.destroy()), fake.close(r))));
    return file;
  }

  it('a call the gateway never answers fails after the deadline', async () => {
    const c = await client(await fakeServer(() => undefined), { timeoutMs: 100 });
    const error = await c.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/no answer in time/);
  });

  it('an answer that is not a store answer ends the connection and fails the call', async () => {
    const c = await client(await fakeServer((i) => `{"i":${i},"surprise":1}`));
    await expect(c.get('k')).rejects.toThrow(/malformed/);
    await expect(c.get('k')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('a socket that accepts but never answers the first ping is no store (a server closing meanwhile)', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gw-sock-')), 'mute.sock');
    const held: net.Socket[] = [];
    const mute = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => mute.listen(file, r));
    cleanup.push(() => new Promise((r) => (held.forEach((s) => s.destroy()), mute.close(r))));
    expect(await SocketStore.connect(file, { connectTimeoutMs: 200 })).toBeUndefined();
    // One that accepts and drops the connection at once, as a listener closing under a new connection does.
    const drop = net.createServer((s) => s.destroy());
    const dropFile = `${file}-drop`;
    await new Promise<void>((r) => drop.listen(dropFile, r));
    cleanup.push(() => new Promise((r) => drop.close(r)));
    expect(await SocketStore.connect(dropFile)).toBeUndefined();
  });
});
