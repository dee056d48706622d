import { ChildProcess, describeExit, type ChildSpec } from './child-process.js';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import { Session, type SessionContext } from './session.js';

/** Delay between the last pending `initialize` being answered and the pool spawning replacements. */
const REFILL_DELAY_MS = 150;
/** An `initialize` pending longer than this (a hung server) no longer holds the pool back. */
const INIT_STALL_MS = 10_000;

/** What the registry needs beyond the sessions' shared context. */
export interface RegistryConfig {
  spec: ChildSpec;
  maxSessions: number;
  /** Most sessions of one identity; `0`: no per-user cap. */
  maxSessionsPerUser: number;
  poolSize: number;
  retryAfterSeconds: number;
  generateSessionId: () => string;
}

/**
 * Every live session, the warm pool of pre-spawned children, and their
 * upkeep. Sessions plus pooled children never exceed `maxSessions`, and one
 * identity's sessions never exceed `maxSessionsPerUser`.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** Live sessions by identity (the per-user cap's key). */
  private readonly byIdentity = new Map<string, Set<Session>>();
  private readonly pool = new Set<ChildProcess>();
  private refillScheduled = false;
  /** A refill found initializes in flight and waits for them. */
  private refillWanted = false;
  /** Sessions whose `initialize` is in flight, with when it started. */
  private readonly initializing = new Map<Session, number>();
  private refillTimer: NodeJS.Timeout | undefined;
  private poolFailures = 0;
  private closing = false;
  private readonly ctx: SessionContext;

  constructor(
    private readonly cfg: RegistryConfig,
    ctx: Omit<SessionContext, 'onClosed' | 'onInitializeSettled'>,
  ) {
    this.ctx = {
      ...ctx,
      onClosed: (s) => this.closed(s),
      onInitializeSettled: (s) => this.initializeSettled(s),
    };
  }

  /** Open sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Children waiting in the warm pool. */
  get pooled(): number {
    return this.pool.size;
  }

  /** True when a new session could be opened now. */
  get hasCapacity(): boolean {
    return !this.closing && (this.pool.size > 0 || this.sessions.size < this.cfg.maxSessions);
  }

  /** Pooled children that have answered their warm-up ping. */
  get warm(): number {
    let n = 0;
    for (const c of this.pool) if (c.warm) n++;
    return n;
  }

  /** PIDs of the pooled children. */
  poolPids(): number[] {
    return [...this.pool].map((c) => c.pid);
  }

  /** The live session `id`, if any. */
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** All live sessions. */
  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /**
   * Opens a session: a warm child when one is waiting and no per-session
   * environment is needed, otherwise a fresh one. When `identity` is at its
   * cap, its least recently used idle session is ended first (429 when none
   * is idle); 503 when the bridge is full.
   */
  open(identity: string | undefined, extraEnv: Record<string, string> | undefined): Session {
    if (this.closing)
      throw new BridgeHttpError(503, JsonRpcCode.ServerError, 'Service Unavailable: shutting down');
    if (identity !== undefined) this.makeRoomFor(identity);
    let child: ChildProcess | undefined;
    if (!extraEnv) {
      // A warm child (loaded, answered its ping) first; else any live pooled one.
      for (const c of this.pool) {
        if (c.warm && c.alive) {
          child = c;
          break;
        }
      }
      if (!child) for (const c of this.pool) if (c.alive) child = c;
      for (const c of this.pool) if (!c.alive) this.pool.delete(c);
      if (child) this.pool.delete(child);
    }
    if (!child) {
      if (this.sessions.size + this.pool.size >= this.cfg.maxSessions) {
        // Give up a pooled child (when any) rather than refuse: sessions come first.
        const spare = this.pool.values().next().value;
        if (spare === undefined || this.sessions.size >= this.cfg.maxSessions) {
          this.ctx.metrics.rejectedGlobalCap++;
          throw new BridgeHttpError(503, JsonRpcCode.ServerError, 'Service Unavailable: too many sessions', {
            'retry-after': String(this.cfg.retryAfterSeconds),
          });
        }
        this.pool.delete(spare);
        void spare.kill(this.ctx.killGraceMs);
      }
      child = this.spawn(extraEnv);
    }
    const session = new Session(this.cfg.generateSessionId(), child, identity, this.ctx);
    this.sessions.set(session.id, session);
    if (identity !== undefined) {
      let mine = this.byIdentity.get(identity);
      if (!mine) this.byIdentity.set(identity, (mine = new Set()));
      mine.add(session);
    }
    this.initializing.set(session, this.ctx.clock.now());
    this.ctx.metrics.sessionsOpened++;
    this.ctx.logger.info('session opened', { session: session.id, pid: child.pid });
    // The refill waits for this session's initialize (see refill()).
    this.scheduleRefill(REFILL_DELAY_MS);
    return session;
  }

  /**
   * Per-user cap: when `identity` holds `maxSessionsPerUser` sessions, ends
   * the one of them used least recently that has no request in flight; throws
   * 429 (with `Retry-After`) when every one is busy. Other users are not touched.
   */
  private makeRoomFor(identity: string): void {
    const max = this.cfg.maxSessionsPerUser;
    const mine = this.byIdentity.get(identity);
    if (max === 0 || !mine || mine.size < max) return;
    const now = this.ctx.clock.now();
    let victim: Session | undefined;
    for (const s of mine) {
      if (!s.busy(now) && (!victim || s.lastActivity < victim.lastActivity)) victim = s;
    }
    if (!victim) {
      this.ctx.metrics.rejectedUserCap++;
      this.ctx.logger.warn('session refused: per-user cap', { sessions: mine.size, max });
      throw new BridgeHttpError(
        429,
        JsonRpcCode.ServerError,
        'Too Many Requests: too many sessions for this user',
        { 'retry-after': String(this.cfg.retryAfterSeconds) },
      );
    }
    this.ctx.metrics.evictions++;
    // close() removes it from `sessions` and `byIdentity` at once; the child exits in the background.
    void victim.close(
      'evicted: per-user cap',
      'Session ended: a newer session of the same user took its place',
    );
  }

  /** Keeps the pool at `poolSize` (within the cap), in the background. */
  scheduleRefill(delayMs = 0): void {
    if (this.closing || this.cfg.poolSize === 0 || this.refillScheduled) return;
    this.refillScheduled = true;
    const run = () => {
      this.refillScheduled = false;
      this.refillTimer = undefined;
      this.refill();
    };
    if (delayMs > 0) {
      this.refillTimer = setTimeout(run, delayMs);
      this.refillTimer.unref();
    } else setImmediate(run);
  }

  /** Upkeep for every session (timeouts, keep-alives, idle reaping), and a refill held back by a stalled initialize. */
  sweep(now: number): void {
    for (const s of this.sessions.values()) s.sweep(now);
    if (this.refillWanted && !this.initializePending(now)) {
      this.refillWanted = false;
      this.scheduleRefill();
    }
  }

  /** Ends every session and pooled child; resolves when all children have exited. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.refillTimer);
    const exits = [...this.sessions.values()].map((s) => s.close('shutdown', 'Server shutting down'));
    for (const c of this.pool) exits.push(c.kill(this.ctx.killGraceMs));
    this.pool.clear();
    await Promise.all(exits);
  }

  /** SIGKILL to every child's group, synchronously (process exit handler). */
  killAllNow(): void {
    for (const s of this.sessions.values()) s.child.killNow();
    for (const c of this.pool) c.killNow();
  }

  /**
   * True while an `initialize` is in flight (one that has stalled past
   * INIT_STALL_MS excepted). Spawning forks this process and the new child
   * loads a runtime: both would compete with the answer being awaited, so
   * the pool never refills while one is pending.
   */
  private initializePending(now: number): boolean {
    for (const started of this.initializing.values()) if (now - started < INIT_STALL_MS) return true;
    return false;
  }

  private initializeSettled(session: Session): void {
    if (!this.initializing.delete(session)) return;
    if (this.refillWanted && !this.initializePending(this.ctx.clock.now())) {
      this.refillWanted = false;
      this.scheduleRefill(REFILL_DELAY_MS);
    }
  }

  private refill(): void {
    if (this.initializePending(this.ctx.clock.now())) {
      this.refillWanted = true;
      this.ctx.logger.debug('pool refill deferred: initialize pending', { pending: this.initializing.size });
      return;
    }
    this.refillWanted = false;
    const target = Math.min(this.cfg.poolSize, this.cfg.maxSessions - this.sessions.size);
    while (!this.closing && this.pool.size < target) {
      const child = this.spawn(undefined);
      this.pool.add(child);
      child.onExit = (exit) => {
        if (!this.pool.delete(child)) return;
        const young = this.ctx.clock.now() - child.startedAt < 5_000;
        this.poolFailures = young ? this.poolFailures + 1 : 0;
        this.ctx.metrics.crashes++;
        this.ctx.logger.warn('pooled child exited', { pid: child.pid, exit: describeExit(exit) });
        this.scheduleRefill(Math.min(30_000, 100 * 2 ** this.poolFailures));
      };
      child.onStderr = (line) => this.ctx.logger.info('child stderr', { pool: true, pid: child.pid, line });
      // MCP allows ping before initialize: its answer tells that the server has loaded.
      const pingId = `mcp-bridge-warmup-${child.pid}`;
      child.onLine = (line) => {
        if (child.warm) return;
        try {
          const msg = JSON.parse(line.toString('utf8')) as { id?: unknown };
          if (msg.id === pingId) child.warm = true;
        } catch {
          // not JSON: ignore until adopted
        }
      };
      void child.write(JSON.stringify({ jsonrpc: '2.0', id: pingId, method: 'ping' }));
    }
  }

  private spawn(extraEnv: Record<string, string> | undefined): ChildProcess {
    const spec = extraEnv ? { ...this.cfg.spec, env: { ...this.cfg.spec.env, ...extraEnv } } : this.cfg.spec;
    const child = new ChildProcess(spec, this.ctx.clock.now());
    this.ctx.metrics.spawns++;
    this.ctx.logger.debug('child spawned', { pid: child.pid });
    return child;
  }

  private closed(session: Session): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    if (session.identity !== undefined) {
      const mine = this.byIdentity.get(session.identity);
      if (mine?.delete(session) && mine.size === 0) this.byIdentity.delete(session.identity);
    }
    this.initializing.delete(session);
    this.ctx.metrics.sessionsClosed++;
    this.scheduleRefill();
  }
}
