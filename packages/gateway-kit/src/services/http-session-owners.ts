/**
 * The 2025 sessions of an `http` service's upstream, each bound to the user who
 * opened it: the `Mcp-Session-Id` the upstream answers `initialize` with is
 * recorded with the caller's immutable subject id, and a request naming a
 * session that is not the caller's own gets 404 without reaching the upstream
 * (as the MCP spec answers an unknown session). The bindings live in the
 * gateway's store, so every instance sharing it (Redis) knows them: an upstream
 * session, unlike a bridged stdio child, can be reached from any instance.
 *
 * Bounds: at most `maxSessionsPerUser` per user (opening another ends the
 * user's least recently used one, at the upstream too) and `maxSessions`
 * overall (an `initialize` beyond gets 503 and the session it opened is ended
 * upstream); a binding not used for `idleMs` is forgotten, and its session is
 * ended upstream when the gateway comes across it (a request naming it, the
 * user going over its bound, a prune at the overall bound) while its entry lasts
 * (another `idleMs`). Each binding is one store entry under a digest of the
 * session id (bounded keys, no session id in the store's key space) holding the
 * session id sealed ({@link SecretBox} under a secret the instances share), so
 * any instance can end it upstream. Its digest is a member of the overall set
 * and of its user's set, counted after adding, so instances sharing the
 * store do not overshoot the bounds. The overall set is a {@link CappedIndex}
 * (as the authorization server's dynamic clients): an `initialize` counts it
 * (`setSize`: `SCARD` on Redis, a kept count in the embedded store) and reads it whole only to
 * prune it, at its bound and at most once per {@link PRUNE_EVERY_MS}. Store
 * sets cannot expire, so no user set outlives its sessions otherwise: every
 * member of a user's set is in the overall set, whose members name the user
 * (`<digest>.<user tag>`) and whose prune takes them out of both.
 *
 * Each instance remembers recent "this session is `sub`'s" answers for a few
 * seconds ({@link RecentOwners}), so a session in use costs a store read every
 * few seconds, not one per request. An end or a forget on this instance takes
 * effect here at once; on another instance up to that long later (the
 * upstream, which ended the session, answers 404 meanwhile, which forgets it).
 */
import { createHash } from 'node:crypto';
import { CappedIndex } from '@mcp-gateway/internal/capped-index';
import type { Store } from '@mcp-gateway/oauth-dynamicclient';
import { GatewayError, JsonRpcCode } from '../errors.js';
import { sessionNotFound } from '../federation/sessions.js';
import { sharedStoreSecret } from '../store/shared-secret.js';
import { SecretBox } from '../upstream/secret-box.js';
import { RecentOwners } from './recent-owners.js';

/** Bounds of an http service's session bindings (`maxSessions`, `maxSessionsPerUser`, `sessionTimeout`). */
export interface HttpSessionLimits {
  /** Bound sessions at most, all users together. */
  maxSessions: number;
  /** Bound sessions of one user at most. */
  maxSessionsPerUser: number;
  /** Milliseconds a binding lives unused. */
  idleMs: number;
}

/** Ends `sessionId` at the upstream as `sub` (a `DELETE`), giving up when `signal` aborts. */
export type EndUpstreamSession = (sessionId: string, sub: string, signal: AbortSignal) => Promise<void>;

/** What {@link HttpSessionOwners} needs besides the store. */
export interface HttpSessionOwnersOptions {
  /** Ends evicted and expired sessions upstream (default: they are only forgotten). */
  end?: EndUpstreamSession;
  /** Seals session ids in the store (default: a box under the store's shared secret {@link HTTP_SESSION_SECRET_KEY}). */
  box?: SecretBox;
  /** Time source of idle times, the owner cache and the prune interval, in ms (default `Date.now`). */
  now?: () => number;
  /** Sessions whose owner this instance remembers (default 10,000). */
  cacheSize?: number;
  /** Milliseconds a remembered owner is trusted (default 5 s). */
  cacheMs?: number;
}

/** One binding: its owner, when it was last used (refreshed at most every {@link REFRESH_EVERY_MS}) and the sealed session id. */
interface Binding {
  sub: string;
  at: number;
  sid?: string;
}

/** Store key of the secret the instances seal session ids under. */
export const HTTP_SESSION_SECRET_KEY = 'gateway:http-session-secret';
/** Milliseconds an upstream `DELETE` of an evicted, expired or refused session may take. */
export const END_DEADLINE_MS = 5_000;
/** A binding in use is written again (new `at`, new TTL) at most this often, and at least every quarter of the idle time. */
const REFRESH_EVERY_MS = 60_000;
/** The overall set is checked for forgotten members at most this often per process, and only at its bound. */
const PRUNE_EVERY_MS = 60_000;
/** Bindings read (and expired sessions ended) at once while pruning. */
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
  private readonly refreshMs: number;
  /** Entries outlive their idle time by as much again, so an expired session can still be ended upstream. */
  private readonly entryTtl: number;
  /** The store set of every bound session, as `<digest>.<user tag>`. */
  private readonly allKey: string;
  /** {@link allKey}, capped at `maxSessions`. */
  private readonly all: CappedIndex;
  private readonly recent: RecentOwners;
  private readonly now: () => number;
  private readonly endUpstream: EndUpstreamSession | undefined;
  private box: Promise<SecretBox> | undefined;
  /** Upstream ends running in the background. */
  private readonly ending = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly service: string,
    private readonly limits: HttpSessionLimits,
    options: HttpSessionOwnersOptions = {},
  ) {
    this.refreshMs = Math.min(REFRESH_EVERY_MS, limits.idleMs / 4);
    this.entryTtl = 2 * limits.idleMs;
    this.allKey = `gateway:http-sessions:${service}`;
    this.recent = new RecentOwners(options.cacheSize ?? 10_000, options.cacheMs ?? 5_000);
    this.now = options.now ?? Date.now;
    this.endUpstream = options.end;
    if (options.box) this.box = Promise.resolve(options.box);
    this.all = new CappedIndex(store, {
      key: this.allKey,
      max: limits.maxSessions,
      clock: { now: this.now },
      prune: () => this.prune(this.now()),
      pruneEveryMs: PRUNE_EVERY_MS,
    });
  }

  /** The store entry of one binding. */
  private entryKey(digest: string): string {
    return `gateway:http-session:${this.service}:${digest}`;
  }

  /** The store set of the digests of the sessions of the user tagged `tag`. */
  private userKey(tag: string): string {
    return `gateway:http-session-users:${this.service}:${tag}`;
  }

  /** What a sealed session id is bound to: its entry. */
  private sealName(digest: string): string {
    return `${this.service} ${digest}`;
  }

  private secretBox(): Promise<SecretBox> {
    this.box ??= sharedStoreSecret(this.store, HTTP_SESSION_SECRET_KEY).then(
      (secret) => new SecretBox(secret, 'http-session-ids'),
      (err: unknown) => {
        this.box = undefined;
        throw err;
      },
    );
    return this.box;
  }

  /**
   * True when `sessionId` is a live session of `sub`; a use restarts its idle
   * time. A session found past its idle time is ended upstream.
   */
  async owns(sessionId: string, sub: string): Promise<boolean> {
    const now = this.now();
    const seen = this.recent.get(sessionId, now);
    if (seen && seen.sub !== sub) return false;
    if (seen && now - seen.at < this.refreshMs) return true;
    const digest = digestOf(sessionId);
    const key = this.entryKey(digest);
    const b = await this.store.get<Binding>(key).catch((err: unknown) => {
      throw storeUnavailable(err);
    });
    if (!b || now - b.at > this.limits.idleMs) {
      this.recent.delete(sessionId);
      if (b) this.background(this.retire(digest, b));
      return false;
    }
    if (b.sub !== sub) return false;
    let at = b.at;
    if (now - at >= this.refreshMs) {
      // Best effort: a binding not refreshed still lives for most of its idle time.
      await this.store.set(key, { ...b, at: now } satisfies Binding, this.entryTtl).then(
        () => (at = now),
        () => {},
      );
    }
    this.recent.set(sessionId, { sub, at }, now);
    return true;
  }

  /**
   * Binds a session the upstream just opened to `sub`. At the user's bound the
   * user's least recently used session is forgotten and ended upstream;
   * `false` (nothing bound) at the overall bound, when the caller ends the
   * session upstream. Throws (503) when the store fails, leaving nothing bound.
   */
  async bind(sessionId: string, sub: string): Promise<boolean> {
    const digest = digestOf(sessionId);
    const tag = tagOf(sub);
    const now = this.now();
    try {
      const sid = await (await this.secretBox()).seal(sessionId, this.sealName(digest));
      // The entry first, so a prune running meanwhile sees it live; the overall set before the
      // user's, so every member of a user's set is one of the overall set, whose prune finds it.
      await this.store.set(this.entryKey(digest), { sub, at: now, sid } satisfies Binding, this.entryTtl);
      if (!(await this.all.admit(`${digest}.${tag}`))) {
        await this.forgetDigest(digest, sub);
        return false;
      }
      await this.store.addToSet(this.userKey(tag), digest);
      const mine = await this.store.members(this.userKey(tag));
      if (mine.length > this.limits.maxSessionsPerUser) await this.makeRoom(sub, digest, mine);
      this.recent.set(sessionId, { sub, at: now }, now);
      return true;
    } catch (err) {
      // Best effort: an entry left expires, set members left are pruned.
      await this.forgetDigest(digest, sub).catch(() => {});
      throw storeUnavailable(err);
    }
  }

  /** Forgets `sub`'s session (ended by its owner, or unknown to the upstream). Best effort: a binding left expires. */
  async forget(sessionId: string, sub: string): Promise<void> {
    this.recent.delete(sessionId);
    await this.forgetDigest(digestOf(sessionId), sub).catch(() => {});
  }

  /** Resolves when the upstream ends running in the background are done (each within {@link END_DEADLINE_MS}). */
  async settled(): Promise<void> {
    while (this.ending.size) await Promise.all(this.ending);
  }

  /**
   * Takes a binding out of the store: its entry, its user's set, then the
   * overall set (so what a failure leaves is found by a prune). `true` when
   * this call removed the entry: of instances forgetting one binding at
   * once, that one ends it upstream.
   */
  private async forgetDigest(digest: string, sub: string): Promise<boolean> {
    const tag = tagOf(sub);
    const removed = await this.store.delete(this.entryKey(digest));
    await this.store.removeFromSet(this.userKey(tag), digest);
    await this.store.removeFromSet(this.allKey, `${digest}.${tag}`);
    return removed;
  }

  /** Forgets a binding and ends its session upstream (best effort, within {@link END_DEADLINE_MS}). */
  private async retire(digest: string, b: Binding): Promise<void> {
    if (await this.forgetDigest(digest, b.sub)) await this.endSealed(digest, b);
  }

  /** Ends the session of a forgotten binding upstream, when its id can be opened. */
  private async endSealed(digest: string, b: Binding): Promise<void> {
    if (!this.endUpstream || !b.sid) return;
    const sessionId = await (await this.secretBox()).open<string>(b.sid, this.sealName(digest));
    if (typeof sessionId !== 'string') return;
    this.recent.delete(sessionId);
    await this.endUpstream(sessionId, b.sub, AbortSignal.timeout(END_DEADLINE_MS)).catch(() => {});
  }

  private background(work: Promise<void>): void {
    const p = work.catch(() => {}).finally(() => this.ending.delete(p));
    this.ending.add(p);
  }

  /**
   * Takes `sub`'s forgotten sessions out of its set, then ends its expired
   * ones and its least recently used live ones down to the bound (upstream
   * too, before the new session is answered).
   */
  private async makeRoom(sub: string, added: string, mine: string[]): Promise<void> {
    const others = mine.filter((d) => d !== added);
    const bindings = await Promise.all(others.map((d) => this.store.get<Binding>(this.entryKey(d))));
    const now = this.now();
    const live: { digest: string; b: Binding }[] = [];
    const expired: { digest: string; b: Binding }[] = [];
    for (const [i, digest] of others.entries()) {
      const b = bindings[i];
      if (!b) await this.forgetDigest(digest, sub);
      else if (b.sub !== sub) await this.store.removeFromSet(this.userKey(tagOf(sub)), digest);
      else (now - b.at > this.limits.idleMs ? expired : live).push({ digest, b });
    }
    live.sort((x, y) => x.b.at - y.b.at);
    const evicted = live.slice(0, live.length + 1 - this.limits.maxSessionsPerUser);
    await Promise.all([...expired, ...evicted].map(({ digest, b }) => this.retire(digest, b)));
  }

  /**
   * The overall set's prune (at its bound, at most every {@link PRUNE_EVERY_MS}):
   * takes the members whose entries are gone out of the overall set and their
   * users' sets, and forgets the expired ones, whose sessions are then ended
   * upstream in the background (a prune may find many).
   */
  private async prune(now: number): Promise<void> {
    const all = await this.store.members(this.allKey);
    const ended: { digest: string; b: Binding }[] = [];
    for (let i = 0; i < all.length; i += PRUNE_CHUNK) {
      const chunk = all.slice(i, i + PRUNE_CHUNK).map((member) => {
        const [digest = '', tag] = member.split('.');
        return { member, digest, tag };
      });
      const bindings = await Promise.all(chunk.map((m) => this.store.get<Binding>(this.entryKey(m.digest))));
      for (const [j, { member, digest, tag }] of chunk.entries()) {
        const b = bindings[j];
        if (!b) {
          if (tag) await this.store.removeFromSet(this.userKey(tag), digest);
          await this.store.removeFromSet(this.allKey, member);
        } else if (now - b.at > this.limits.idleMs && (await this.forgetDigest(digest, b.sub))) {
          ended.push({ digest, b });
        }
      }
    }
    this.background(
      (async () => {
        for (let i = 0; i < ended.length; i += PRUNE_CHUNK) {
          await Promise.all(
            ended.slice(i, i + PRUNE_CHUNK).map(({ digest, b }) => this.endSealed(digest, b)),
          );
        }
      })(),
    );
  }
}

/** What {@link serveOwnedSession} needs of the proxy. */
export interface SessionHop {
  /** Sends the request on to the upstream. */
  forward(): Promise<Response>;
  /** Ends `sessionId` at the upstream (`DELETE`, within {@link END_DEADLINE_MS}). */
  end(sessionId: string): Promise<void>;
}

/**
 * One request to an `http` service, with its session bound to `sub`: a request
 * naming a session that is not `sub`'s is answered 404 here; an `initialize`
 * answered with a new session binds it (503 at the overall bound, or when the
 * store fails: the answer is then dropped and the session ended upstream); the
 * owner's `DELETE` and an upstream 404 forget it. Requests without
 * `Mcp-Session-Id` (2026-07-28 ones among them) pass as they are.
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
    if (!opened) return res;
    let bound: boolean;
    try {
      bound = await owners.bind(opened, sub);
    } catch (err) {
      await drop(res, opened, hop);
      throw err;
    }
    if (bound) return res;
    await drop(res, opened, hop);
    throw tooManySessions();
  }
  if (!(await owners.owns(sessionId, sub))) return sessionNotFound().toResponse(null);
  const res = await hop.forward();
  if (res.status === 404 || (request.method === 'DELETE' && res.ok)) await owners.forget(sessionId, sub);
  return res;
}

/** Drops an upstream answer that is not passed on, and ends the session it opened. */
async function drop(res: Response, opened: string, hop: SessionHop): Promise<void> {
  await res.body?.cancel().catch(() => {});
  await hop.end(opened).catch(() => {});
}

/** The upstream `DELETE` (to the service's `url`) that ends `sessionId`, with `version` as its protocol version when known. */
export function endSessionRequest(url: string, sessionId: string, version?: string | null): Request {
  const headers: Record<string, string> = { 'mcp-session-id': sessionId };
  if (version) headers['mcp-protocol-version'] = version;
  return new Request(url, { method: 'DELETE', headers });
}

function digestOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}

/** A user's tag in store keys and set members: 128 bits of a digest of `sub` (no user id in the key space). */
function tagOf(sub: string): string {
  return createHash('sha256').update(sub).digest('base64url').slice(0, 22);
}
