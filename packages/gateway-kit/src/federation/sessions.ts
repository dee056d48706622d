/**
 * 2025 sessions of a federated endpoint (`initialize` → `Mcp-Session-Id`):
 * each bound to the user who opened it, at most `maxSessionsPerUser` per user
 * (the least recently used idle one makes room, else 429) and `maxSessions`
 * overall (503), ended after `sessionTimeout` idle seconds or by `DELETE`.
 * A session holds no member state: members are asked statelessly.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError, JsonRpcCode } from '../errors.js';

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_SECONDS = 5;

/** The refusal of a request naming no session of the caller's (HTTP 404). */
export function sessionNotFound(): GatewayError {
  return new GatewayError(404, -32001, 'Session not found');
}

/** The refusal of a 2025 request without a session (HTTP 400). */
export function sessionRequired(): GatewayError {
  return new GatewayError(
    400,
    JsonRpcCode.BackendUnavailable,
    'Bad Request: Mcp-Session-Id header is required',
  );
}

/** One open federated session. */
export class FederatedSession {
  lastActivity: number;
  /** Requests being served right now (a busy session is never evicted). */
  inFlight = 0;
  /** The input capabilities (elicitation, sampling, roots) its client declared in `initialize`. */
  clientCapabilities: Record<string, unknown> = {};

  constructor(
    readonly id: string,
    readonly user: string,
    readonly protocolVersion: string,
    now: number,
  ) {
    this.lastActivity = now;
  }
}

/** Limits of a {@link FederatedSessions}. */
export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerUser: number;
  /** Idle milliseconds before a session ends. */
  idleMs: number;
}

/** The open sessions of one federated endpoint. */
export class FederatedSessions {
  private readonly sessions = new Map<string, FederatedSession>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
    private readonly newId: () => string = randomUUID,
    /** Told of each session that ends (its member sessions end with it). */
    private readonly onClose: (id: string) => void = () => {},
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session for `user`. Throws 429 when the user's sessions are all
   * busy at the per-user cap, 503 when the endpoint is full.
   */
  open(user: string, protocolVersion: string): FederatedSession {
    this.sweep();
    const mine = [...this.sessions.values()].filter((s) => s.user === user);
    if (mine.length >= this.limits.maxSessionsPerUser) {
      const idle = mine.filter((s) => s.inFlight === 0).sort((a, b) => a.lastActivity - b.lastActivity);
      if (!idle[0]) {
        throw new GatewayError(
          429,
          JsonRpcCode.BackendUnavailable,
          'Too Many Requests: too many sessions for this user',
          {
            'retry-after': String(RETRY_AFTER_SECONDS),
          },
        );
      }
      this.close(idle[0].id);
    }
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new GatewayError(503, JsonRpcCode.BackendUnavailable, 'Service Unavailable: too many sessions', {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    }
    const s = new FederatedSession(this.newId(), user, protocolVersion, this.now());
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session `id` of `user` (touched), or `undefined`: unknown, ended, expired or another user's. */
  get(id: string, user: string): FederatedSession | undefined {
    const s = this.sessions.get(id);
    if (!s || s.user !== user) return undefined;
    const now = this.now();
    if (s.inFlight === 0 && now - s.lastActivity > this.limits.idleMs) {
      this.close(id);
      return undefined;
    }
    s.lastActivity = now;
    return s;
  }

  /** Ends a session; true when it was open. */
  close(id: string): boolean {
    if (!this.sessions.delete(id)) return false;
    this.onClose(id);
    return true;
  }

  /** Ends idle sessions past the timeout. */
  sweep(): void {
    const now = this.now();
    for (const s of this.sessions.values()) {
      if (s.inFlight === 0 && now - s.lastActivity > this.limits.idleMs) this.close(s.id);
    }
  }

  /** Ends every session. */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }
}
