import { randomBytes } from 'node:crypto';
import type { ChildSpec } from '../child-process.js';
import type { Logger } from '../log.js';
import type { Clock, ModernOptions } from '../options.js';
import { ModernHandler } from './handler.js';
import { Listeners } from './listen.js';
import { ChildPool } from './pool.js';
import { RequestStateCodec } from './request-state.js';
import { Ticker } from './ticker.js';

export { ModernHandler } from './handler.js';

/** Defaults of {@link ModernOptions}, in one place. */
export const MODERN_DEFAULTS = {
  maxChildren: 20,
  maxChildrenPerUser: 2,
  maxSharedPerChild: 8,
  maxQueuedPerUser: 16,
  queueTimeoutMs: 30_000,
  idleTimeoutMs: 5 * 60_000,
  requestStateTtlMs: 10 * 60_000,
  listTtlMs: 0,
  maxListeners: 200,
  maxListenersPerUser: 4,
} as const;

/** What the bridge passes down besides the user's {@link ModernOptions}. */
export interface ModernEnv {
  spec: ChildSpec;
  clock: Clock;
  logger: Logger;
  requestTimeoutMs: number;
  maxRequestTimeoutMs: number;
  initializeTimeoutMs: number;
  killGraceMs: number;
  retryAfterSeconds: number;
  keepAliveMs: number;
}

/** Builds the 2026-07-28 side of a bridge: the per-user child pool and the handler over it. */
export function createModernHandler(options: ModernOptions, env: ModernEnv): ModernHandler {
  const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ModernOptions;
  const o = { ...MODERN_DEFAULTS, ...set };
  const k = options.requestStateKey;
  const key = typeof k === 'string' ? Buffer.from(k) : (k ?? randomBytes(32));
  // One deadline timer for calls and tool-list reads.
  const ticker = new Ticker(env.clock);
  const pool = new ChildPool({
    spec: env.spec,
    maxChildren: o.maxChildren,
    maxChildrenPerUser: o.maxChildrenPerUser,
    maxSharedPerChild: o.maxSharedPerChild,
    maxQueuedPerUser: o.maxQueuedPerUser,
    queueTimeoutMs: o.queueTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs,
    initializeTimeoutMs: env.initializeTimeoutMs,
    killGraceMs: env.killGraceMs,
    retryAfterSeconds: env.retryAfterSeconds,
    // Listing tools is housekeeping of the child, like its handshake: the same deadline.
    listToolsTimeoutMs: env.initializeTimeoutMs,
    clock: env.clock,
    ticker,
    logger: env.logger,
  });
  return new ModernHandler(
    {
      codec: new RequestStateCodec(key),
      clock: env.clock,
      logger: env.logger,
      requestTimeoutMs: env.requestTimeoutMs,
      maxRequestTimeoutMs: env.maxRequestTimeoutMs,
      requestStateTtlMs: o.requestStateTtlMs,
      listTtlMs: o.listTtlMs,
      ticker,
    },
    pool,
    new Listeners(
      {
        maxListeners: o.maxListeners,
        maxListenersPerUser: o.maxListenersPerUser,
        retryAfterSeconds: env.retryAfterSeconds,
        keepAliveMs: env.keepAliveMs,
      },
      env.clock,
    ),
  );
}
