import net from 'node:net';
import { spawnCli, type SpawnedCli } from '@mcp-gateway/testkit';

/** A redis-server child process on a free loopback port. */
export interface RedisServer {
  url: string;
  port: number;
  process: SpawnedCli;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `redis-server` without persistence on a free port and waits until it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawnCli('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ]);
    try {
      await proc.waitForOutput(/Ready to accept connections/, { timeoutMs: 10_000 });
      return { url: `redis://127.0.0.1:${port}`, port, process: proc, stop: () => proc.kill(2000) };
    } catch (err) {
      await proc.kill(500);
      if (attempt >= 2) throw err;
    }
  }
}
