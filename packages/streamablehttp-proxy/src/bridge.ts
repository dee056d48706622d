import { unrefInterval } from '@mcp-gateway/internal/unref-interval';
import { randomBytes } from 'node:crypto';
import { resolveExecutable } from './child-process.js';
import type { BridgeCaller, RequestView } from './exchange.js';
import { acceptLazyRequests } from '@mcp-gateway/internal/lazy-request';
import type { RequestInfo } from '@mcp-gateway/internal/fetch-handler';
import { handleFetch, toResponse } from './fetch-exchange.js';
import { HttpHandler } from './http-handler.js';
import { createJsonLogger } from './log.js';
import { BridgeMetrics } from './metrics.js';
import { DEFAULTS, optionsSchema, type IdentityResolver, type StdioBridgeOptions } from './options.js';
import { SessionRegistry } from './sessions.js';
import { createModernHandler } from './modern/index.js';

/** Counters and gauges of a running bridge. */
export interface BridgeStats {
  sessions: number;
  pooled: number;
  /** Pooled children that have loaded (answered their warm-up ping). */
  warm: number;
  sessionsOpened: number;
  sessionsClosed: number;
  spawns: number;
  crashes: number;
  requests: number;
  /** Requests answered with a timeout error (deadline expiries, `initialize` included). */
  timeouts: number;
  /** Sessions ended because the child did not answer `initialize` in time. */
  uninitializedReaped: number;
  /** Idle sessions ended to make room under their user's cap. */
  evictions: number;
  /** New sessions refused: `globalCap` (503, bridge full), `userCap` (429, every session of the user busy). */
  rejections: { globalCap: number; userCap: number };
  /** The session caps in force. */
  maxSessions: number;
  maxSessionsPerUser: number;
  /** Children serving MCP 2026-07-28 requests (per-user pools). */
  modernChildren: number;
  /** MCP 2026-07-28 requests waiting for a busy child of their user (per-user queues). */
  modernQueued: number;
  /** PIDs of every live child (sessions, pool and 2026 pools), for orphan checks. */
  pids: number[];
}

/** A running stdio ↔ Streamable HTTP bridge. */
export interface StdioBridge {
  /**
   * Handles one HTTP request (the MCP endpoint, `/healthz`, `/readyz`, `/metrics`). `info.body`,
   * when the edge read the body already, is used instead of reading the request; with
   * `info.lateResponses` (the node edge) a 2026-07-28 call may be answered with a late response
   * that settles when the child answers. Never rejects.
   */
  fetch: (request: Request, info?: RequestInfo) => Promise<Response>;
  /**
   * Handles one request an embedder has already authenticated: `view` is the request as the
   * bridge reads it (headers the embedder hides simply answer `null`; `body` read and `json` parsed
   * by it, `observer` told of each answer), `caller` who it is (used instead of the `identity`
   * resolver and `envFromHeaders`). Resolves with the answer, an event stream as a pushed body
   * the node edge writes as it comes (with `view.lateAnswer`, a 2026-07-28 call's answer as a late
   * body that settles when the child answers: read its status with `whenSettled`). Never rejects.
   */
  handle: (view: RequestView, caller?: BridgeCaller) => Promise<Response>;
  /**
   * The capabilities the stdio server declares in its 2025 `initialize` answer, as its sessions
   * see them (`resources.subscribe` included, which 2026-07-28 `server/discover` leaves out):
   * the first pooled child's cached answer, a child of `caller` started the first time.
   * `undefined` when 2026-07-28 serving is off or no child starts.
   */
  sessionCapabilities: (caller: BridgeCaller) => Promise<Record<string, unknown> | undefined>;
  /** Ends every session and pooled child (SIGTERM, then SIGKILL); resolves when all have exited. */
  close: () => Promise<void>;
  /** Current counters. */
  stats: () => BridgeStats;
  /** SIGKILL to every child's process group now (for `process.on('exit')`). */
  killAllNow: () => void;
}

/**
 * Creates a bridge that exposes the stdio MCP server `command` over MCP
 * Streamable HTTP, one child process per session. Web `Request` in,
 * `Response` out; see {@link toNodeListener} and {@link serveNode} for node:http.
 */
export function createStdioBridge(options: StdioBridgeOptions): StdioBridge {
  optionsSchema.parse(options);
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  const clock = options.clock ?? { now: Date.now };
  const logger = options.logger ?? createJsonLogger(o.logLevel, undefined, () => clock.now());
  const metrics = new BridgeMetrics();
  const eventStore = o.eventStore === false ? false : { ...DEFAULTS.eventStore, ...o.eventStore };
  const spec = {
    command: o.command,
    args: o.args ?? [],
    env: o.env ?? process.env,
    cwd: o.cwd,
    limits: o.limits,
    maxLineBytes: o.maxLineBytes,
  };
  const registry = new SessionRegistry(
    {
      spec,
      maxSessions: o.maxSessions,
      maxSessionsPerUser: o.maxSessionsPerUser,
      poolSize: o.poolSize,
      retryAfterSeconds: o.retryAfterSeconds,
      generateSessionId: o.generateSessionId ?? (() => randomBytes(16).toString('hex')),
    },
    {
      clock,
      logger,
      metrics,
      retryMs: o.retryMs,
      requestTimeoutMs: o.requestTimeoutMs,
      maxRequestTimeoutMs: o.maxRequestTimeoutMs,
      initializeTimeoutMs: o.initializeTimeoutMs,
      sessionTimeoutMs: o.sessionTimeoutMs,
      keepAliveMs: o.keepAliveMs,
      killGraceMs: o.killGraceMs,
      maxInFlightPerSession: o.maxInFlightPerSession,
      maxStreamQueueBytes: o.maxStreamQueueBytes,
      eventStore,
    },
  );
  let identity: IdentityResolver | undefined;
  if (typeof o.identity === 'string') {
    const header = o.identity;
    identity = (req) => req.headers.get(header) ?? undefined;
  } else identity = o.identity;
  const modern =
    o.modern === false
      ? undefined
      : createModernHandler(o.modern ?? {}, {
          spec,
          clock,
          logger,
          requestTimeoutMs: o.requestTimeoutMs,
          maxRequestTimeoutMs: o.maxRequestTimeoutMs,
          initializeTimeoutMs: o.initializeTimeoutMs,
          killGraceMs: o.killGraceMs,
          retryAfterSeconds: o.retryAfterSeconds,
          keepAliveMs: o.keepAliveMs,
        });
  let closing = false;
  const handler = new HttpHandler(
    {
      path: o.path,
      jsonResponse: o.jsonResponse,
      allowedOrigins: o.allowedOrigins,
      allowedHosts: o.allowedHosts,
      envFromHeaders: Object.entries(o.envFromHeaders ?? {}).map(([h, e]) => [h.toLowerCase(), e]),
      identity,
      modern,
      maxBodyBytes: o.maxBodyBytes,
      clock,
      logger,
      metrics,
      maxSessions: o.maxSessions,
      maxSessionsPerUser: o.maxSessionsPerUser,
      canSpawn: () =>
        !closing &&
        registry.hasCapacity &&
        (registry.pooled > 0 || resolveExecutable(spec.command, spec.env.PATH) !== null),
    },
    registry,
  );
  const sweep = () => {
    registry.sweep(clock.now());
    modern?.sweep(clock.now());
  };
  const stopSweep = clock.every?.(o.sweepIntervalMs, sweep) ?? unrefInterval(o.sweepIntervalMs, sweep);
  registry.scheduleRefill();
  let closed: Promise<void> | undefined;
  return {
    // It reads method, URL, headers and signal only (the body comes buffered as `info.body`): the
    // node edge may hand it a lazy request instead of building an undici `Request` per request.
    fetch: acceptLazyRequests((request: Request, info?: RequestInfo) =>
      handleFetch(handler, o.maxBodyBytes, request, info),
    ),
    async handle(view, caller) {
      if (caller) view.caller = caller;
      return toResponse(await handler.handle(view));
    },
    async sessionCapabilities(caller) {
      if (!modern) return undefined;
      const user = { user: caller.identity, env: caller.env };
      return (await modern.initResult(user).catch(() => undefined))?.capabilities;
    },
    close() {
      closing = true;
      closed ??= (async () => {
        stopSweep();
        await Promise.all([registry.close(), modern?.close()]);
      })();
      return closed;
    },
    stats() {
      const pids: number[] = [];
      for (const s of registry.all()) pids.push(s.child.pid);
      return {
        sessions: registry.size,
        pooled: registry.pooled,
        warm: registry.warm,
        sessionsOpened: metrics.sessionsOpened,
        sessionsClosed: metrics.sessionsClosed,
        spawns: metrics.spawns,
        crashes: metrics.crashes,
        requests: metrics.rpcRequests,
        timeouts: metrics.timeouts,
        uninitializedReaped: metrics.uninitializedReaped,
        evictions: metrics.evictions,
        rejections: { globalCap: metrics.rejectedGlobalCap, userCap: metrics.rejectedUserCap },
        maxSessions: o.maxSessions,
        maxSessionsPerUser: o.maxSessionsPerUser,
        pids: [...pids, ...registry.poolPids(), ...(modern?.pool.pids() ?? [])],
        modernChildren: modern?.pool.size ?? 0,
        modernQueued: modern?.pool.queued ?? 0,
      };
    },
    killAllNow: () => {
      registry.killAllNow();
      modern?.pool.killAllNow();
    },
  };
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
