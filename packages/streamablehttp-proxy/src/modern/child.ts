import { ChildProcess, type ChildSpec } from '../child-process.js';
import { classify, type Classified, type JsonRpcId } from '../jsonrpc.js';
import { CHILD_PROTOCOL_VERSION } from '../protocol-version.js';

/** What a 2025 child said about itself in `initialize` (cached for `server/discover`). */
export interface ChildInitResult {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: Record<string, unknown>;
  instructions?: string;
}

/** A JSON-RPC response from the child: `result` or `error`. */
export type ChildResponse = { result: Record<string, unknown> } | { error: Record<string, unknown> };

/** Capabilities the bridge declares to its children: it turns their server→client requests into MRTR. */
const BRIDGE_CAPABILITIES = { elicitation: {}, sampling: {}, roots: {} };

/**
 * One stdio child that serves 2026-07-28 requests: initialized once (2025
 * handshake), then leased to one modern request at a time. The bridge owns
 * the child's id space: every request it sends gets a fresh bridge id
 * (`b<n>`), so client ids never reach the child and never collide.
 */
export class PooledChild {
  readonly process: ChildProcess;
  init: ChildInitResult | undefined;
  /** True while leased to a request (or initializing). */
  busy = true;
  lastUsed: number;
  /**
   * Receives every child message that is not the answer to a request the
   * bridge sent: notifications and server→client requests of the lease.
   */
  listener: ((msg: Classified) => void) | undefined;
  private nextId = 0;
  private infoJson: string | undefined;
  private readonly waiting = new Map<JsonRpcId, (r: ChildResponse) => void>();

  constructor(
    spec: ChildSpec,
    now: number,
    readonly user: string,
    /** The header-given environment it was started with, as a comparable key (`''`: none). */
    readonly envKey: string,
    private readonly onStray: (child: PooledChild, msg: Classified) => void,
  ) {
    this.lastUsed = now;
    this.process = new ChildProcess(spec, now);
    this.process.onLine = (line) => this.line(line);
    this.process.onExit = () => {
      for (const resolve of this.waiting.values()) {
        resolve({ error: { code: -32000, message: 'MCP server process exited' } });
      }
      this.waiting.clear();
    };
  }

  /** `init.serverInfo` as JSON text, made once (every answer of the child carries it). */
  get serverInfoJson(): string {
    return (this.infoJson ??= JSON.stringify(this.init?.serverInfo ?? {}));
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.process.alive;
  }

  /** Runs the 2025 handshake; rejects when the child answers with an error or `timeoutMs` passes. */
  async initialize(timeoutMs: number): Promise<ChildInitResult> {
    const promise = new Promise<ChildResponse>((resolve) =>
      this.request(
        'initialize',
        {
          protocolVersion: CHILD_PROTOCOL_VERSION,
          capabilities: BRIDGE_CAPABILITIES,
          clientInfo: { name: 'mcp-streamablehttp-proxy', version: '0' },
        },
        resolve,
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('initialize timed out')), timeoutMs);
    });
    try {
      const r = await Promise.race([promise, timeout]);
      if ('error' in r) throw new Error(`initialize failed: ${String(r.error.message)}`);
      const res = r.result as Partial<ChildInitResult>;
      this.init = {
        protocolVersion: String(res.protocolVersion ?? CHILD_PROTOCOL_VERSION),
        capabilities: (res.capabilities as Record<string, unknown>) ?? {},
        serverInfo: (res.serverInfo as Record<string, unknown>) ?? { name: 'unknown', version: '0' },
        ...(typeof res.instructions === 'string' ? { instructions: res.instructions } : {}),
      };
      this.notify('notifications/initialized', undefined);
      return this.init;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a request under a fresh bridge id and returns the id; `onAnswer`
   * gets the child's answer (a callback, not a promise: it runs in the same
   * turn as the child's output is read).
   */
  request(method: string, params: unknown, onAnswer: (r: ChildResponse) => void): string {
    const id = `b${++this.nextId}`;
    this.waiting.set(id, onAnswer);
    this.write({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return id;
  }

  /** Stops waiting for the answer to `id` (cancelled or timed out); a late answer is dropped. */
  forget(id: string): void {
    this.waiting.delete(id);
  }

  /** Sends a notification. */
  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Answers a server→client request of the child. */
  respond(id: JsonRpcId, answer: ChildResponse): void {
    this.write({ jsonrpc: '2.0', id, ...answer });
  }

  private write(msg: unknown): void {
    void this.process.write(JSON.stringify(msg));
  }

  private line(line: Buffer): void {
    let c: Classified | undefined;
    try {
      c = classify(JSON.parse(line.toString('utf8')));
    } catch {
      return; // not JSON: stdio servers' stray output is dropped
    }
    if (!c) return;
    if (c.kind === 'response') {
      const resolve = c.id === null ? undefined : this.waiting.get(c.id);
      if (!resolve || c.id === null) return;
      this.waiting.delete(c.id);
      const m = c.msg;
      resolve(
        m.error !== undefined
          ? { error: m.error as Record<string, unknown> }
          : { result: (m.result ?? {}) as Record<string, unknown> },
      );
      return;
    }
    if (this.listener) this.listener(c);
    else this.onStray(this, c);
  }
}
