import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPidAlive, startRedis } from '../src/index.js';

/** One RESP round trip with a raw socket: the testkit must not depend on a redis client. */
async function command(port: number, ...args: string[]): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const payload = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  socket.write(payload);
  const reply = await new Promise<string>((resolve, reject) => {
    socket.once('data', (d) => resolve(d.toString()));
    socket.once('error', reject);
  });
  socket.destroy();
  return reply;
}

const dir = mkdtempSync(path.join(tmpdir(), 'testkit-redis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startRedis', () => {
  it('starts a real redis-server on loopback and stops it by PID', async () => {
    const redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await command(redis.port, 'PING')).toBe('+PONG\r\n');
    const pid = redis.process.pid;
    await redis.stop();
    expect(isPidAlive(pid)).toBe(false);
  });

  it('keeps data across stop and start when given a folder', async () => {
    const redis = await startRedis({ dir });
    try {
      expect(await command(redis.port, 'SET', 'k', 'v')).toBe('+OK\r\n');
      await redis.stop();
      await expect(command(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
      await redis.start();
      expect(await command(redis.port, 'GET', 'k')).toBe('$1\r\nv\r\n');
    } finally {
      await redis.stop();
    }
  });
});
