import net from 'node:net';
import { spawnCli, type SpawnedCli } from './spawn-cli.js';

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real `redis-server` child on loopback, started by {@link startRedis}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The running process (replaced by {@link RedisServer.start}). */
  readonly process: SpawnedCli;
  /** Stops the server (SIGTERM, which flushes the append-only file when `dir` was given). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data folder (a restart after {@link RedisServer.stop}). */
  start(): Promise<void>;
}

/**
 * Starts Debian's `redis-server` on a free port and resolves once it accepts
 * connections. Without `dir` nothing is persisted; with `dir` the data lives
 * in an append-only file there, so {@link RedisServer.stop} then
 * {@link RedisServer.start} keeps every key (for restart tests).
 */
export async function startRedis(opts: { dir?: string; port?: number } = {}): Promise<RedisServer> {
  const persistence = opts.dir ? ['--appendonly', 'yes', '--dir', opts.dir] : ['--appendonly', 'no'];
  let proc: SpawnedCli | undefined;
  let port = opts.port ?? 0;
  const launch = async (): Promise<void> => {
    const p = spawnCli('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--protected-mode',
      'no',
      ...persistence,
    ]);
    try {
      await p.waitForOutput(/Ready to accept connections/, { timeoutMs: 10_000 });
      proc = p;
    } catch (err) {
      await p.kill(500);
      throw err;
    }
  };
  // A free port can be taken between probe and bind: retry a few times.
  for (let attempt = 0; ; attempt++) {
    if (!opts.port) port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (opts.port || attempt >= 2) throw err;
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return proc!;
    },
    stop: () => proc!.kill(5_000),
    start: launch,
  };
}
