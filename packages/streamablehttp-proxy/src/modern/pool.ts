import type { ChildSpec } from '../child-process.js';
import { BridgeHttpError, JsonRpcCode } from '../errors.js';
import type { Classified } from '../jsonrpc.js';
import type { Logger } from '../log.js';
import type { Clock } from '../options.js';
import { PooledChild, type ChildInitResult } from './child.js';
import type { Ticker } from './ticker.js';
import type { ToolListing } from './tool-declarations.js';

/**
 * Who a 2026 request is served for: the user (the bridge's identity; `''`
 * without one) and the environment its request headers give the child
 * (`envFromHeaders`). A child only serves callers with both equal.
 */
export interface Caller {
  user: string;
  env: Record<string, string> | undefined;
  /** The client's disconnect signal, read only if the request has to queue. */
  clientGone?: () => AbortSignal | undefined;
  /**
   * The request may share a child with other shareable requests of the user (its client can be
   * asked nothing and wants no log lines; see {@link PooledChild}); else it has a child alone.
   */
  shareable?: boolean;
}

/** Bounds and timings of the per-user child pool. */
export interface PoolConfig {
  spec: ChildSpec;
  /** Most children serving modern requests, all users together. */
  maxChildren: number;
  /** Most children of one user. */
  maxChildrenPerUser: number;
  /** Most shareable requests running on one child at once (`1`: never shared). */
  maxSharedPerChild: number;
  /** An idle child unused this long is ended, in ms. */
  idleTimeoutMs: number;
  initializeTimeoutMs: number;
  killGraceMs: number;
  retryAfterSeconds: number;
  /** Most requests of one user waiting for a busy child (`0`: 429 at once). */
  maxQueuedPerUser: number;
  /** How long a request waits for a child of its user before 429, in ms. */
  queueTimeoutMs: number;
  /** How long a child may take to list its tools before `tools/call` stops waiting for the list, in ms. */
  listToolsTimeoutMs: number;
  clock: Clock;
  /** The shared deadline timer (on `clock`). */
  ticker: Ticker;
  logger: Logger;
}

/**
 * Initialized 2025 children kept per user for 2026-07-28 requests. A child
 * only ever serves the user it was started for, one request at a time, or up
 * to `maxSharedPerChild` shareable ones ({@link Caller.shareable}); a
 * shareable request takes an idle child, else the least busy shared one with
 * room, else a new child. Bounded per user: while every child of the user is busy, up to
 * `maxQueuedPerUser` requests wait (first come, first served) at most
 * `queueTimeoutMs` for one; beyond that, 429. Bounded overall (503 when no
 * idle child of another user can be ended to make room); idle children are
 * ended after `idleTimeoutMs`.
 */
export class ChildPool {
  private readonly byUser = new Map<string, Set<PooledChild>>();
  /** Requests waiting for a child, per user, oldest first. */
  private readonly queues = new Map<string, Waiter[]>();
  private count = 0;
  private closing = false;
  /** The first successful `initialize` answer (all children run the same server). */
  initResult: ChildInitResult | undefined;
  /** Messages from a child outside any lease (e.g. `list_changed`), with the child's user. */
  onStray: (user: string, msg: Classified, child: PooledChild) => void = () => {};

  /** What every child's tool-list reader shares. */
  private readonly listing: ToolListing;

  constructor(private readonly cfg: PoolConfig) {
    this.listing = {
      clock: cfg.clock,
      ticker: cfg.ticker,
      logger: cfg.logger,
      timeoutMs: cfg.listToolsTimeoutMs,
    };
  }

  /** Children alive now (busy and idle). */
  get size(): number {
    return this.count;
  }

  /** PIDs of every child (orphan checks). */
  pids(): number[] {
    const out: number[] = [];
    for (const set of this.byUser.values()) for (const c of set) out.push(c.process.pid);
    return out;
  }

  /** Requests waiting for a child now (all users). */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Leases an initialized child of `user`: an idle one when there is one,
   * else a new one within the bounds; while every child of the user is busy,
   * waits in the user's bounded queue. Give it back with {@link release}.
   */
  acquire(caller: Caller): PooledChild | Promise<PooledChild> {
    // The common case, an idle child of the user, is answered without a promise.
    return this.take(caller, false) ?? this.queueFor(caller);
  }

  /** {@link acquire} once every child of the user is busy: waits in the user's queue. */
  private async queueFor(caller: Caller): Promise<PooledChild> {
    const deadline = Date.now() + this.cfg.queueTimeoutMs;
    let front = false;
    for (;;) {
      await this.wait(caller, deadline, front);
      const child = this.take(caller, true);
      if (child) return child instanceof Promise ? await child : child;
      // Woken for a freed child: keep the place at the front if another request took it first.
      front = true;
    }
  }

  /**
   * A child for `caller` now (a promise while a new one initializes), or `undefined` when the user
   * must wait. A shareable request joins a busy child only when no request of the user waits
   * before it (`woken`: it was the oldest waiting), so that one needing a child alone is not
   * passed over for ever.
   */
  private take(caller: Caller, woken: boolean): PooledChild | Promise<PooledChild> | undefined {
    if (this.closing)
      throw new BridgeHttpError(503, JsonRpcCode.ServerError, 'Service Unavailable: shutting down');
    const { user } = caller;
    const mine = this.byUser.get(user);
    if (mine) {
      let best: PooledChild | undefined;
      let other: PooledChild | undefined;
      let shared: PooledChild | undefined;
      const join = caller.shareable === true && (woken || !this.queues.has(user));
      for (const c of mine) {
        if (!c.alive || c.draining) continue;
        if (c.busy) {
          if (join && !c.exclusive && c.sharing < this.cfg.maxSharedPerChild) {
            if (sameEnv(c.env, caller.env) && (!shared || c.sharing < shared.sharing)) shared = c;
          }
          continue;
        }
        if (!sameEnv(c.env, caller.env)) other = c;
        else if (!best || c.lastUsed > best.lastUsed) best = c;
      }
      const chosen = best ?? shared;
      if (chosen) {
        if (caller.shareable) chosen.sharing++;
        else chosen.exclusive = true;
        return chosen;
      }
      // At the user's cap, an idle child started with other header-given env makes room.
      if (other && mine.size >= this.cfg.maxChildrenPerUser) this.discard(other);
    }
    if ((mine?.size ?? 0) >= this.cfg.maxChildrenPerUser) return undefined;
    if (this.count >= this.cfg.maxChildren && !this.evictIdle()) {
      throw new BridgeHttpError(503, JsonRpcCode.ServerError, 'Service Unavailable: too many children', {
        'retry-after': String(this.cfg.retryAfterSeconds),
      });
    }
    const spec = caller.env
      ? { ...this.cfg.spec, env: { ...this.cfg.spec.env, ...caller.env } }
      : this.cfg.spec;
    const child = new PooledChild(
      spec,
      this.cfg.clock.now(),
      user,
      caller.env,
      (c, msg) => this.onStray(c.user, msg, c),
      this.listing,
    );
    this.add(child);
    child.process.onStderr = (line) =>
      this.cfg.logger.info('child stderr', { modern: true, pid: child.process.pid, line });
    return this.start(child, caller.shareable === true);
  }

  /** Initializes a new child (leased alone meanwhile), then leases it as asked; 502 when it does not answer. */
  private async start(child: PooledChild, shareable: boolean): Promise<PooledChild> {
    try {
      const init = await child.initialize(this.cfg.initializeTimeoutMs);
      this.initResult ??= init;
      if (shareable) {
        child.exclusive = false;
        child.sharing++;
      }
    } catch (err) {
      this.remove(child);
      void child.process.kill(this.cfg.killGraceMs);
      this.cfg.logger.warn('modern child failed to initialize', {
        pid: child.process.pid,
        error: err instanceof Error ? err.message : String(err),
      });
      throw new BridgeHttpError(
        502,
        JsonRpcCode.InternalError,
        'Bad Gateway: the MCP server did not initialize',
      );
    }
    return child;
  }

  /**
   * Gives back a lease of `child` (`shared`: one of its shareable ones); a dead child is dropped,
   * and so is a draining one once its last request is done.
   */
  release(child: PooledChild, shared = false): void {
    if (shared) child.sharing--;
    else child.exclusive = false;
    child.lastUsed = this.cfg.clock.now();
    if (!child.alive || this.closing || (child.draining && !child.busy)) this.discard(child);
    this.wake(child.user);
  }

  /**
   * Gives back a lease of a child that missed a deadline: the child is ended, at once when no other
   * request runs on it, else once the last one is done (it takes no new ones meanwhile).
   */
  retire(child: PooledChild, shared = false): void {
    child.draining = true;
    this.release(child, shared);
  }

  /**
   * Waits (bounded) until a child of `user` is released or ended; 429 when
   * the user's queue is full or `deadline` passes first.
   */
  private wait(caller: Caller, deadline: number, front: boolean): Promise<void> {
    const user = caller.user;
    const tooMany = (why: string) =>
      new BridgeHttpError(429, JsonRpcCode.ServerError, `Too Many Requests: ${why}`, {
        'retry-after': String(this.cfg.retryAfterSeconds),
      });
    let queue = this.queues.get(user);
    if ((queue?.length ?? 0) >= this.cfg.maxQueuedPerUser) {
      return Promise.reject(tooMany('every child of this user is busy and the queue is full'));
    }
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(tooMany('no child of this user became free in time'));
    const gone = caller.clientGone?.();
    if (gone?.aborted) return Promise.reject(clientClosed());
    if (!queue) this.queues.set(user, (queue = []));
    const q = queue;
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        gone?.removeEventListener('abort', onGone);
      };
      const waiter: Waiter = {
        wake: () => {
          settle();
          resolve();
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      };
      // The client went away while waiting: leave the queue now, so no child is taken for it.
      const onGone = () => {
        this.dequeue(user, waiter);
        waiter.fail(clientClosed());
      };
      const timer = setTimeout(() => {
        this.dequeue(user, waiter);
        waiter.fail(tooMany('no child of this user became free in time'));
      }, left);
      timer.unref();
      gone?.addEventListener('abort', onGone, { once: true });
      if (front) q.unshift(waiter);
      else q.push(waiter);
    });
  }

  /** Lets the oldest waiting request of `user` try again (a child was released or ended). */
  private wake(user: string): void {
    const queue = this.queues.get(user);
    const next = queue?.shift();
    if (queue?.length === 0) this.queues.delete(user);
    next?.wake();
  }

  private dequeue(user: string, waiter: Waiter): void {
    const queue = this.queues.get(user);
    if (!queue) return;
    const i = queue.indexOf(waiter);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(user);
  }

  /** Ends a child now (it misbehaved, or the pool is closing). */
  discard(child: PooledChild): void {
    if (this.remove(child)) void child.process.kill(this.cfg.killGraceMs);
  }

  /** Ends children idle longer than `idleTimeoutMs`, and forgets dead ones. */
  sweep(now: number): void {
    for (const set of this.byUser.values()) {
      for (const c of set) {
        if (!c.alive) this.remove(c);
        else if (!c.busy && now - c.lastUsed >= this.cfg.idleTimeoutMs) {
          this.cfg.logger.debug('modern child idle: ended', { pid: c.process.pid });
          this.discard(c);
        }
      }
    }
  }

  /** Ends every child; resolves when all have exited. */
  async close(): Promise<void> {
    this.closing = true;
    for (const queue of this.queues.values()) {
      for (const w of queue.splice(0)) {
        w.fail(new BridgeHttpError(503, JsonRpcCode.ServerError, 'Service Unavailable: shutting down'));
      }
    }
    this.queues.clear();
    const exits: Promise<unknown>[] = [];
    for (const set of [...this.byUser.values()]) {
      for (const c of [...set]) {
        this.remove(c);
        exits.push(c.process.kill(this.cfg.killGraceMs));
      }
    }
    await Promise.all(exits);
  }

  /** SIGKILL to every child now. */
  killAllNow(): void {
    for (const set of this.byUser.values()) for (const c of set) c.process.killNow();
  }

  /** Ends the least recently used idle child of any user; false when none is idle. */
  private evictIdle(): boolean {
    let victim: PooledChild | undefined;
    for (const set of this.byUser.values()) {
      for (const c of set) if (!c.busy && (!victim || c.lastUsed < victim.lastUsed)) victim = c;
    }
    if (!victim) return false;
    this.discard(victim);
    return true;
  }

  private add(child: PooledChild): void {
    let set = this.byUser.get(child.user);
    if (!set) this.byUser.set(child.user, (set = new Set()));
    set.add(child);
    this.count++;
    const prev = child.process.onExit;
    child.process.onExit = (exit) => {
      prev(exit);
      this.remove(child);
    };
  }

  private remove(child: PooledChild): boolean {
    const set = this.byUser.get(child.user);
    if (!set?.delete(child)) return false;
    if (set.size === 0) this.byUser.delete(child.user);
    this.count--;
    this.wake(child.user);
    return true;
  }
}

/**
 * Whether two header-given environments are equal (`undefined` and `{}`: none):
 * the same names with the same values. Per request: no allocation (the gateway
 * makes a new record for every request, so records are compared, not keys made).
 */
export function sameEnv(
  a: Record<string, string> | undefined,
  b: Record<string, string> | undefined,
): boolean {
  if (a === b) return true;
  let n = 0;
  if (a) {
    for (const name in a) {
      if (!Object.hasOwn(a, name)) continue;
      if (!b || !Object.hasOwn(b, name) || a[name] !== b[name]) return false;
      n++;
    }
  }
  if (b) for (const name in b) if (Object.hasOwn(b, name)) n--;
  return n === 0;
}

/** The refusal of a queued request whose client disconnected (nobody reads it). */
function clientClosed(): BridgeHttpError {
  return new BridgeHttpError(499, JsonRpcCode.ServerError, 'Client Closed Request: left the queue');
}

/** A request waiting in a user's queue. */
interface Waiter {
  wake(): void;
  fail(err: Error): void;
}
