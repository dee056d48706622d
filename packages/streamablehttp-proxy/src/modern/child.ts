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

/** Where the child's messages for a lease go: the answer to the lease's request, and everything else. */
export interface ChildLease {
  /** The child's answer to the request the lease sent; `line` is its text as the child wrote it. */
  answered(r: ChildResponse, line?: string): void;
  /** A notification or server→client request of the child during the lease. */
  fromChild(msg: Classified): void;
}

/** Told of the answer to one request sent to the child. */
interface Answerer {
  answered(r: ChildResponse, line?: string): void;
}

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
   * The lease: receives every child message that is not the answer to a
   * request the bridge sent (notifications and server→client requests).
   */
  lease: Pick<ChildLease, 'fromChild'> | undefined;
  private nextId = 0;
  private infoJson: string | undefined;
  private readonly waiting = new Map<JsonRpcId, Answerer>();

  constructor(
    spec: ChildSpec,
    now: number,
    readonly user: string,
    /** The header-given environment it was started with (`undefined`: none), compared with `sameEnv`. */
    readonly env: Record<string, string> | undefined,
    private readonly onStray: (child: PooledChild, msg: Classified) => void,
  ) {
    this.lastUsed = now;
    this.process = new ChildProcess(spec, now);
    this.process.onLine = (line) => this.line(line);
    this.process.onExit = () => {
      for (const a of this.waiting.values()) {
        a.answered({ error: { code: -32000, message: 'MCP server process exited' } });
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
        { answered: resolve },
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
   * Sends a request under a fresh bridge id and returns the id; `to.answered`
   * gets the child's answer (a callback, not a promise: it runs in the same
   * turn as the child's output is read; an object, so a lease passes itself
   * instead of a closure per request).
   */
  request(method: string, params: unknown, to: Answerer): string {
    const id = `b${++this.nextId}`;
    this.waiting.set(id, to);
    this.write(
      params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params },
    );
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
    const text = line.toString('utf8');
    try {
      c = classify(JSON.parse(text));
    } catch {
      return; // not JSON: stdio servers' stray output is dropped
    }
    if (!c) return;
    if (c.kind === 'response') {
      const to = c.id === null ? undefined : this.waiting.get(c.id);
      if (!to || c.id === null) return;
      this.waiting.delete(c.id);
      // The parsed message is the answer as it is (fresh from JSON.parse, ours): no wrapper per answer.
      const m = c.msg;
      if (m.error === undefined) m.result ??= {};
      to.answered(m as ChildResponse, text);
      return;
    }
    if (this.lease) this.lease.fromChild(c);
    else this.onStray(this, c);
  }
}
