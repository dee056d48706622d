import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/** One live stateful MCP session. */
export interface Session {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
}

/**
 * Stateful-mode session registry: lookup by `Mcp-Session-Id`, a cap on how
 * many live at once, and idle expiry driven by the injected clock (swept
 * lazily on each request, so no timers keep the process alive).
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly now: () => number,
    private readonly idleMs: number,
    readonly maxSessions: number,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = this.now();
    return s;
  }

  add(id: string, session: Session): void {
    session.lastSeen = this.now();
    this.sessions.set(id, session);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Closes and forgets sessions idle for longer than `idleMs`. */
  async sweep(): Promise<void> {
    const cutoff = this.now() - this.idleMs;
    const stale = [...this.sessions].filter(([, s]) => s.lastSeen < cutoff);
    for (const [id] of stale) this.sessions.delete(id);
    await Promise.all(stale.map(([, s]) => s.server.close().catch(() => {})));
  }

  /** Closes every session. */
  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.server.close().catch(() => {})));
  }
}
