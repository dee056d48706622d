/**
 * The 2025 sessions of an `http` service's upstream, each bound to the user who
 * opened it: the `Mcp-Session-Id` the upstream answers `initialize` with is
 * recorded with the caller's immutable subject id, and a request naming a
 * session that is not the caller's own gets 404 without reaching the upstream
 * (as the MCP spec answers an unknown session). The bindings live in the
 * gateway's store, so every instance sharing it (Redis) knows them: an upstream
 * session, unlike a bridged stdio child, can be reached from any instance.
 *
 * Bounds: at most `maxSessionsPerUser` per user (opening another forgets the
 * user's least recently used one) and `maxSessions` overall (an `initialize`
 * beyond gets 503 and the session it opened is ended upstream); a binding not
 * used for `idleMs` is forgotten. Each is one store entry under a digest of
 * the session id (bounded keys, no session id in the store's key space), listed
 * in two store sets that are counted after adding (as the authorization
 * server's capped client index does), so instances sharing the store do not
 * overshoot the bounds.
 */
import { createHash } from 'node:crypto';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { sessionNotFound } from '../federation/sessions.js';

/** Bounds of an http service's session bindings (`maxSessions`, `maxSessionsPerUser`, `sessionTimeout`). */
export interface HttpSessionLimits {
  /** Bound sessions at most, all users together. */
  maxSessions: number;
  /** Bound sessions of one user at most. */
  maxSessionsPerUser: number;
  /** Milliseconds a binding lives unused. */
  idleMs: number;
}

/** One binding: its owner and when it was last used (refreshed at most every {@link REFRESH_EVERY_MS}). */
interface Binding {
  sub: string;
  at: number;
}

/** A binding in use is written again (new `at`, new TTL) at most this often, and at least every quarter of the idle time. */
const REFRESH_EVERY_MS = 60_000;
/** The overall set is checked for forgotten members at most this often per process, and only at its bound. */
const PRUNE_EVERY_MS = 60_000;
/** Bindings read at once while pruning. */
const PRUNE_CHUNK = 100;
/** Seconds a client refused at the overall bound is told to wait. */
const RETRY_AFTER_SECONDS = 5;

/** The refusal of an `initialize` when `maxSessions` sessions are bound (HTTP 503). */
export function tooManySessions(): GatewayError {
  return new GatewayError(503, JsonRpcCode.BackendUnavailable, 'Service Unavailable: too many sessions', {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
}

const storeUnavailable = (cause: unknown) => {
  const err = new GatewayError(
    503,
    JsonRpcCode.StoreUnavailable,
    'the session store is unavailable; try again shortly',
    { 'retry-after': '5' },
  );
  err.cause = cause;
  return err;
};

/** The session bindings of one `http` service. */
export class HttpSessionOwners {
  private lastPrune = Number.NEGATIVE_INFINITY;
  private readonly refreshMs: number;
  /** The store set of every bound session's digest. */
  private readonly allKey: string;

  constructor(
    private readonly store: Store,
    private readonly service: string,
    private readonly limits: HttpSessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.refreshMs = Math.min(REFRESH_EVERY_MS, limits.idleMs / 4);
    this.allKey = `gateway:http-sessions:${service}`;
  }

  /** The store entry of one binding. */
  private bindingKey(digest: string): string {
    return `gateway:http-session:${this.service}:${digest}`;
  }

  /** The store set of `sub`'s bound sessions' digests. */
  private userKey(sub: string): string {
    return `gateway:http-sessions:${this.service} ${sub}`;
  }

  /** True when `sessionId` is a live session of `sub`; a use restarts its idle time. */
  async owns(sessionId: string, sub: string): Promise<boolean> {
    const key = this.bindingKey(digestOf(sessionId));
    const b = await this.store.get<Binding>(key).catch((err: unknown) => {
      throw storeUnavailable(err);
    });
    const now = this.now();
    if (!b || b.sub !== sub || now - b.at > this.limits.idleMs) return false;
    if (now - b.at >= this.refreshMs) {
      // Best effort: a binding not refreshed still lives for most of its idle time.
      await this.store.set(key, { sub, at: now } satisfies Binding, this.limits.idleMs).catch(() => {});
    }
    return true;
  }

  /**
   * Binds a session the upstream just opened to `sub`. At the user's bound the
   * user's least recently used session is forgotten; `false` (nothing bound)
   * at the overall bound, when the caller ends the session upstream.
   */
  async bind(sessionId: string, sub: string): Promise<boolean> {
    try {
      const digest = digestOf(sessionId);
      // The entry first, so a prune running meanwhile sees it live.
      await this.store.set(
        this.bindingKey(digest),
        { sub, at: this.now() } satisfies Binding,
        this.limits.idleMs,
      );
      await this.store.addToSet(this.userKey(sub), digest);
      const mine = await this.store.members(this.userKey(sub));
      if (mine.length > this.limits.maxSessionsPerUser) await this.makeRoom(sub, digest, mine);
      await this.store.addToSet(this.allKey, digest);
      if (await this.overBound()) {
        await this.forgetDigest(digest, sub);
        return false;
      }
      return true;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw storeUnavailable(err);
    }
  }

  /** Forgets `sub`'s session (ended by its owner, or unknown to the upstream). Best effort: a binding left expires. */
  async forget(sessionId: string, sub: string): Promise<void> {
    await this.forgetDigest(digestOf(sessionId), sub).catch(() => {});
  }

  private async forgetDigest(digest: string, sub: string): Promise<void> {
    await this.store.delete(this.bindingKey(digest));
    await this.store.removeFromSet(this.userKey(sub), digest);
    await this.store.removeFromSet(this.allKey, digest);
  }

  /** Takes `sub`'s forgotten sessions out of its set, then forgets its least recently used live ones down to the bound. */
  private async makeRoom(sub: string, added: string, mine: string[]): Promise<void> {
    const others = mine.filter((d) => d !== added);
    const bindings = await Promise.all(others.map((d) => this.store.get<Binding>(this.bindingKey(d))));
    const live: { digest: string; at: number }[] = [];
    for (const [i, digest] of others.entries()) {
      const b = bindings[i];
      if (b?.sub === sub) live.push({ digest, at: b.at });
      else await this.store.removeFromSet(this.userKey(sub), digest);
    }
    live.sort((a, b) => a.at - b.at);
    for (const { digest } of live.slice(0, live.length + 1 - this.limits.maxSessionsPerUser)) {
      await this.forgetDigest(digest, sub);
    }
  }

  /** True when more than `maxSessions` are bound, after taking forgotten ones out (at most every {@link PRUNE_EVERY_MS}). */
  private async overBound(): Promise<boolean> {
    const { maxSessions } = this.limits;
    if ((await this.store.members(this.allKey)).length <= maxSessions) return false;
    const now = this.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return true;
    this.lastPrune = now;
    const all = await this.store.members(this.allKey);
    for (let i = 0; i < all.length; i += PRUNE_CHUNK) {
      const chunk = all.slice(i, i + PRUNE_CHUNK);
      const bindings = await Promise.all(chunk.map((d) => this.store.get<Binding>(this.bindingKey(d))));
      for (const [j, digest] of chunk.entries()) {
        if (!bindings[j]) await this.store.removeFromSet(this.allKey, digest);
      }
    }
    return (await this.store.members(this.allKey)).length > maxSessions;
  }
}

/** What {@link serveOwnedSession} needs of the proxy. */
export interface SessionHop {
  /** Sends the request on to the upstream. */
  forward(): Promise<Response>;
  /** Ends `sessionId` at the upstream (`DELETE`). */
  end(sessionId: string): Promise<void>;
}

/**
 * One request to an `http` service, with its session bound to `sub`: a request
 * naming a session that is not `sub`'s is answered 404 here; an `initialize`
 * answered with a new session binds it (503 at the overall bound); the owner's
 * `DELETE` and an upstream 404 forget it. Requests without `Mcp-Session-Id`
 * (2026-07-28 ones among them) pass as they are.
 */
export async function serveOwnedSession(
  owners: HttpSessionOwners,
  request: Request,
  sub: string,
  hop: SessionHop,
): Promise<Response> {
  // An empty header names no session (a client of a server that opened none may send one).
  const sessionId = request.headers.get('mcp-session-id');
  if (!sessionId) {
    const res = await hop.forward();
    const opened = request.method === 'POST' && res.ok ? res.headers.get('mcp-session-id') : null;
    if (!opened || (await owners.bind(opened, sub))) return res;
    await res.body?.cancel();
    await hop.end(opened).catch(() => {});
    throw tooManySessions();
  }
  if (!(await owners.owns(sessionId, sub))) return sessionNotFound().toResponse(null);
  const res = await hop.forward();
  if (res.status === 404 || (request.method === 'DELETE' && res.ok)) await owners.forget(sessionId, sub);
  return res;
}

/** The upstream `DELETE` that ends `sessionId`, with the protocol version of `request`. */
export function endSessionRequest(request: Request, sessionId: string): Request {
  const headers: Record<string, string> = { 'mcp-session-id': sessionId };
  const version = request.headers.get('mcp-protocol-version');
  if (version) headers['mcp-protocol-version'] = version;
  return new Request(request.url, { method: 'DELETE', headers });
}

function digestOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}
