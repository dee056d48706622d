/**
 * Session ids of one gateway among several (`instanceId`): a 2025 session of a
 * stdio service or a federated endpoint lives in the process that opened it,
 * so its id says which one, `<instanceId>.<random>`, and a load balancer routes
 * `Mcp-Session-Id` by that prefix. A request naming another instance's session
 * was misrouted: it still gets the usual 404 (the client then opens a new
 * session), and the operator a warning, at most one a minute per service.
 */
import { INSTANCE_ID_PATTERN } from './config/instance-schema.js';
import type { Logger } from './ops/logger.js';

/** How often a {@link MisroutedSessions} warns at most. */
const WARN_INTERVAL_MS = 60_000;

/** `random`, prefixed `<instanceId>.` when an instance id is set (its entropy unchanged). */
export function sessionIdGenerator(instanceId: string | undefined, random: () => string): () => string {
  return instanceId === undefined ? random : () => `${instanceId}.${random()}`;
}

/** The instance a session id names: its part before the first `.` when shaped like an `instanceId`. */
export function sessionInstance(sessionId: string): string | undefined {
  const dot = sessionId.indexOf('.');
  if (dot <= 0) return undefined;
  const prefix = sessionId.slice(0, dot);
  return INSTANCE_ID_PATTERN.test(prefix) ? prefix : undefined;
}

/**
 * Spots `Mcp-Session-Id`s made by another instance (this one never holds such
 * a session) and warns about them: the first at once, then at most one per
 * interval, counting the requests in between.
 */
export class MisroutedSessions {
  private nextWarning = 0;
  private misrouted = 0;

  constructor(
    /** This instance's `instanceId` (unset: any prefixed id is another instance's). */
    private readonly instanceId: string | undefined,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = WARN_INTERVAL_MS,
  ) {}

  /** True when `sessionId` names another instance (the request will get 404 here); warns, bounded. */
  check(sessionId: string | null | undefined): boolean {
    if (!sessionId) return false;
    const owner = sessionInstance(sessionId);
    if (owner === undefined || owner === this.instanceId) return false;
    this.misrouted++;
    const now = this.now();
    if (now >= this.nextWarning) {
      this.nextWarning = now + this.intervalMs;
      this.log.warn(
        `misrouted session: Mcp-Session-Id names instance "${owner}", not this one; route it by its prefix to that instance (the client gets 404 and opens a new session)`,
        {
          sessionInstance: owner,
          instanceId: this.instanceId ?? null,
          requests: this.misrouted,
        },
      );
      this.misrouted = 0;
    }
    return true;
  }
}
