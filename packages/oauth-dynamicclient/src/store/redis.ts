import KeyvRedis from '@keyv/redis';
import { systemClock, type Clock } from '../clock.js';
import type { Envelope, Store } from './types.js';

/** The slice of a node-redis client this store needs. */
interface CommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** `redis://…` URL. Ignored when `keyvRedis` is given. */
  url?: string;
  /** An existing `@keyv/redis` adapter to share its connection (single node or sentinel). */
  keyvRedis?: KeyvRedis<unknown>;
  /** Prefix for every key, followed by `:` (default `mcp-as`). Lets several servers share one Redis. */
  namespace?: string;
  /** Clock used for expiry (default: wall clock). */
  clock?: Clock;
}

// Counter with a fixed window: the expiry is set only by the increment that creates the key.
const INCR_SCRIPT =
  "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * A {@link Store} on Redis through `@keyv/redis` (connection handling,
 * reconnects). Every operation is one Redis command, so `take` (GETDEL) and
 * `increment` (INCR + PEXPIRE in one script) are atomic across any number of
 * server instances. Requires Redis 6.2 or newer.
 */
export class RedisStore implements Store {
  readonly namespace: string;
  private readonly adapter: KeyvRedis<unknown>;
  private readonly clock: Clock;
  private readonly owned: boolean;

  constructor(options: RedisStoreOptions = {}) {
    this.namespace = options.namespace ?? 'mcp-as';
    this.clock = options.clock ?? systemClock;
    this.owned = !options.keyvRedis;
    this.adapter =
      options.keyvRedis ??
      new KeyvRedis(options.url ?? 'redis://127.0.0.1:6379', {
        throwOnConnectError: true,
        throwOnErrors: true,
      });
  }

  private k(key: string): string {
    return `${this.namespace}:${key}`;
  }

  private async cmd(args: string[]): Promise<unknown> {
    const client = (await this.adapter.getClient()) as unknown as CommandClient;
    return client.sendCommand(args);
  }

  private decode(raw: unknown): unknown {
    if (typeof raw !== 'string') return undefined;
    let env: Envelope;
    try {
      env = JSON.parse(raw) as Envelope;
    } catch {
      return undefined;
    }
    if (env.e !== undefined && env.e <= this.clock.now()) return undefined;
    return env.v;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.decode(await this.cmd(['GET', this.k(key)])) as T | undefined;
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) {
      await this.cmd(['SET', this.k(key), JSON.stringify({ v: value })]);
      return;
    }
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const env: Envelope = { v: value, e: this.clock.now() + ttl };
    await this.cmd(['SET', this.k(key), JSON.stringify(env), 'PX', String(ttl)]);
  }

  async delete(key: string): Promise<boolean> {
    return Number(await this.cmd(['DEL', this.k(key)])) > 0;
  }

  async take<T>(key: string): Promise<T | undefined> {
    return this.decode(await this.cmd(['GETDEL', this.k(key)])) as T | undefined;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return Number(await this.cmd(['EVAL', INCR_SCRIPT, '1', this.k(key), ttl]));
  }

  async addToSet(key: string, member: string): Promise<void> {
    await this.cmd(['SADD', this.k(key), member]);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.cmd(['SREM', this.k(key), member]);
  }

  async members(key: string): Promise<string[]> {
    const out = await this.cmd(['SMEMBERS', this.k(key)]);
    return Array.isArray(out) ? out.map(String) : [];
  }

  async close(): Promise<void> {
    if (this.owned) await this.adapter.disconnect();
  }
}
