import KeyvRedis from '@keyv/redis';
import { systemClock, type Clock } from '../clock.js';
import { isStoreUnavailable, storeUnavailable, StoreUnavailableError } from './errors.js';
import type { Envelope, Store } from './types.js';

/** The slice of a node-redis client this store needs. */
interface CommandClient {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
}

/** The node-redis client the store owns when it was given a URL. */
interface OwnedClient extends CommandClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
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
  /**
   * How long an operation waits for the first connection (or the one after
   * {@link RedisStore.close}) before it fails with
   * {@link StoreUnavailableError}. Default 2000 ms.
   */
  connectTimeoutMs?: number;
  /** How long one Redis command may take before it fails with {@link StoreUnavailableError}. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts after the connection was lost. Default 2000 ms. */
  reconnectMaxDelayMs?: number;
}

// Counter with a fixed window: the expiry is set only by the increment that creates the key.
const INCR_SCRIPT =
  "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * Compare-and-set on the stored envelope text. ARGV[1] is `{"v":` plus the
 * expected value's JSON (empty = expect absence), ARGV[2] the new envelope,
 * ARGV[3] the store clock's now: an envelope whose `e` has passed counts as
 * absent. Envelopes are `{"v":…}` or `{"v":…,"e":…}` (JSON.stringify order),
 * so the value matches when the text is the prefix followed by `}` or `,`.
 */
const CAS_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, env = pcall(cjson.decode, cur)
  if ok and type(env) == 'table' and type(env.e) == 'number' and env.e <= tonumber(ARGV[3]) then cur = false end
end
local want = ARGV[1]
if want == '' then
  if cur then return 0 end
elseif not cur or (cur ~= want .. '}' and string.sub(cur, 1, #want + 1) ~= want .. ',') then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

/** Redis error replies that mean "not now" rather than "wrong command". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MISCONF|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/** Server error replies (WRONGTYPE, syntax…) are bugs, not outages: node-redis names them `ErrorReply`/`SimpleError`. */
function isReplyError(err: unknown): boolean {
  return err instanceof Error && /^(ErrorReply|SimpleError|BlobError)$/.test(err.constructor.name);
}

function unavailable(err: unknown): unknown {
  if (isStoreUnavailable(err)) return err;
  if (isReplyError(err) && !TRANSIENT_REPLY.test((err as Error).message)) return err;
  return storeUnavailable(err, 'redis');
}

/**
 * A {@link Store} on Redis through `@keyv/redis` (connection handling,
 * reconnects). Every operation is one Redis command, so `take` (GETDEL),
 * `increment` (INCR + PEXPIRE in one script) and `compareAndSet` (one script)
 * are atomic across any number of server instances. Requires Redis 6.2 or newer.
 *
 * Fails fast: without a connection, commands are not queued but fail at once
 * with {@link StoreUnavailableError} (so is a command that takes longer than
 * `commandTimeoutMs`) while the client reconnects in the background; the
 * server answers `503` meanwhile and recovers by itself.
 */
export class RedisStore implements Store {
  readonly namespace: string;
  private readonly adapter: KeyvRedis<unknown>;
  private readonly clock: Clock;
  private readonly owned: OwnedClient | undefined;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  /** The first connection attempt (node-redis keeps retrying in the background after it). */
  private opening: Promise<unknown> | undefined;
  private openingSince = 0;
  private closed = false;

  constructor(options: RedisStoreOptions = {}) {
    this.namespace = options.namespace ?? 'mcp-as';
    this.clock = options.clock ?? systemClock;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    const maxDelay = options.reconnectMaxDelayMs ?? 2000;
    if (options.keyvRedis) {
      this.adapter = options.keyvRedis;
    } else {
      this.adapter = new KeyvRedis(
        {
          url: options.url ?? 'redis://127.0.0.1:6379',
          // Fail commands at once while disconnected instead of queueing them without bound.
          disableOfflineQueue: true,
          socket: {
            connectTimeout: this.connectTimeoutMs,
            reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, maxDelay),
          },
        },
        { throwOnConnectError: true, throwOnErrors: true },
      );
      this.owned = this.adapter.client as unknown as OwnedClient;
    }
  }

  private k(key: string): string {
    return `${this.namespace}:${key}`;
  }

  /** The owned client, connected (or failing fast); opens it on first use. */
  private async ownedClient(client: OwnedClient): Promise<OwnedClient> {
    if (client.isReady) return client;
    if (this.closed) throw new StoreUnavailableError('storage unavailable (redis store closed)');
    if (!client.isOpen) {
      this.openingSince = Date.now();
      // node-redis retries by itself until it connects; failures surface as 'error' events.
      this.opening = client.connect().catch(() => undefined);
    }
    // Wait for the first connection at most `connectTimeoutMs` after it started; afterwards fail at once.
    const left = this.openingSince + this.connectTimeoutMs - Date.now();
    if (left > 0 && this.opening) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.opening,
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    if (!client.isReady) throw new StoreUnavailableError('storage unavailable (redis not connected)');
    return client;
  }

  /** `work`, or {@link StoreUnavailableError} after `ms`. */
  private static within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`storage unavailable (redis ${what})`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async cmd(args: string[]): Promise<unknown> {
    try {
      const client = this.owned
        ? await this.ownedClient(this.owned)
        : // A shared adapter connects on its own terms: bound the wait for it.
          ((await RedisStore.within(
            this.adapter.getClient(),
            this.connectTimeoutMs,
            'not connected',
          )) as unknown as CommandClient);
      // node-redis' own `timeout` only covers the wait before the command is
      // written; a server that accepted it and hangs needs a timer of our own.
      return await RedisStore.within(
        client.sendCommand(args, { timeout: this.commandTimeoutMs }),
        this.commandTimeoutMs,
        'command timed out',
      );
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Sends `PING`; throws {@link StoreUnavailableError} when Redis does not answer. */
  async ping(): Promise<void> {
    await this.cmd(['PING']);
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

  async compareAndSet(key: string, expected: unknown, value: unknown): Promise<boolean> {
    const want = expected === undefined ? '' : `{"v":${JSON.stringify(expected)}`;
    const next = JSON.stringify({ v: value } satisfies Envelope);
    const now = String(this.clock.now());
    return Number(await this.cmd(['EVAL', CAS_SCRIPT, '1', this.k(key), want, next, now])) === 1;
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

  /** `SCARD`: O(1). */
  async setSize(key: string): Promise<number> {
    return Number(await this.cmd(['SCARD', this.k(key)]));
  }

  async close(): Promise<void> {
    const client = this.owned;
    if (!client || this.closed) return;
    this.closed = true;
    if (!client.isOpen) return;
    // Graceful when connected (pending replies arrive); otherwise stop reconnecting at once.
    if (!client.isReady) {
      client.destroy();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.commandTimeoutMs);
    });
    const outcome = await Promise.race([client.close().catch(() => 'late' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late' && client.isOpen) client.destroy();
  }
}
