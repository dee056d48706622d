import { ChildProcess, type ChildSpec } from '../child-process.js';
import { classify, type Classified, type JsonRpcId } from '../jsonrpc.js';
import { JsonRpcCode } from '../errors.js';
import { CHILD_PROTOCOL_VERSION } from '../protocol-version.js';
import { ToolDeclarations, type ToolListing, type ToolListPage } from './tool-declarations.js';

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

/** A child's answer to a request that fails on the 2026 wire: `-32603`, not a legacy `-32000…-32019` code. */
export const CHILD_EXITED = {
  code: JsonRpcCode.InternalError,
  message: 'MCP server process exited',
} as const;

/**
 * One stdio child that serves 2026-07-28 requests: initialized once (2025
 * handshake), then leased either to one request alone (`exclusive`), or to
 * several shareable requests at once (`sharing`): requests whose client can
 * be asked nothing and wants no log lines, so that nothing the child says
 * needs to be told apart by request except progress, whose tokens the calls
 * make unique ({@link progressRoutes}). The bridge owns the child's id space:
 * every request it sends gets a fresh bridge id (`b<n>`), so client ids never
 * reach the child and never collide.
 */
export class PooledChild {
  readonly process: ChildProcess;
  init: ChildInitResult | undefined;
  /** True while leased to one request alone (or initializing). */
  exclusive = true;
  /** Shareable requests leased to the child now. */
  sharing = 0;
  /** Takes no more requests: ended once its last one is done (a shared call missed its deadline). */
  draining = false;
  lastUsed: number;
  /**
   * The requests in flight on the child: with one, it gets every child message that is not the
   * answer to a request the bridge sent (notifications and server→client requests), as a lease
   * of its own would; with several (all shareable), see {@link toShared}.
   */
  readonly leases: Pick<ChildLease, 'fromChild'>[] = [];
  /** Progress tokens a shared call gave the child, to that call. */
  readonly progressRoutes = new Map<string, Pick<ChildLease, 'fromChild'>>();
  private nextId = 0;
  private infoJson: string | undefined;
  private readonly waiting = new Map<JsonRpcId, Answerer>();
  /** The `x-mcp-header` declarations of the child's tools, read once it is initialized. */
  readonly declarations: ToolDeclarations;

  constructor(
    spec: ChildSpec,
    now: number,
    readonly user: string,
    /** The header-given environment it was started with (`undefined`: none), compared with `sameEnv`. */
    readonly env: Record<string, string> | undefined,
    private readonly onStray: (child: PooledChild, msg: Classified) => void,
    /** How its tool list is read ({@link declarations}). */
    listing: ToolListing,
  ) {
    this.lastUsed = now;
    this.process = new ChildProcess(spec, now);
    this.declarations = new ToolDeclarations((cursor) => this.listTools(cursor), listing, this.process.pid);
    this.process.onLine = (line) => this.line(line);
    this.process.onExit = () => {
      for (const a of this.waiting.values()) a.answered({ error: { ...CHILD_EXITED } });
      this.waiting.clear();
    };
  }

  /** `init.serverInfo` as JSON text, made once (every answer of the child carries it). */
  get serverInfoJson(): string {
    return (this.infoJson ??= JSON.stringify(this.init?.serverInfo ?? {}));
  }

  /** True while leased (or initializing). */
  get busy(): boolean {
    return this.exclusive || this.sharing > 0;
  }

  /** Routes the child's messages to `lease` until {@link detach}. */
  attach(lease: Pick<ChildLease, 'fromChild'>): void {
    this.leases.push(lease);
  }

  detach(lease: Pick<ChildLease, 'fromChild'>): void {
    const i = this.leases.indexOf(lease);
    if (i < 0) return;
    this.leases[i] = this.leases[this.leases.length - 1]!;
    this.leases.pop();
  }

  /** A fresh progress token for a shared call (never one a client chose). */
  progressToken(): string {
    return `p${++this.nextId}`;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.process.alive;
  }

  /**
   * Runs the 2025 handshake, then starts reading the child's tool list (off the request path: the
   * child is leased meanwhile); rejects when the child answers with an error or `timeoutMs` passes.
   */
  async initialize(timeoutMs: number): Promise<ChildInitResult> {
    const r = await this.ask(
      'initialize',
      {
        protocolVersion: CHILD_PROTOCOL_VERSION,
        capabilities: BRIDGE_CAPABILITIES,
        clientInfo: { name: 'mcp-streamablehttp-proxy', version: '0' },
      },
      timeoutMs,
    );
    if ('error' in r) throw new Error(`initialize failed: ${String(r.error.message)}`);
    const res = r.result as Partial<ChildInitResult>;
    this.init = {
      protocolVersion: String(res.protocolVersion ?? CHILD_PROTOCOL_VERSION),
      capabilities: (res.capabilities as Record<string, unknown>) ?? {},
      serverInfo: (res.serverInfo as Record<string, unknown>) ?? { name: 'unknown', version: '0' },
      ...(typeof res.instructions === 'string' ? { instructions: res.instructions } : {}),
    };
    this.notify('notifications/initialized', undefined);
    this.declarations.begin(this.init.capabilities.tools !== undefined);
    return this.init;
  }

  /** Asks the child for one page of its tool list; resolves with its answer (never times out). */
  private listTools(cursor: string | undefined): Promise<ToolListPage> {
    return new Promise((answered) => {
      this.request('tools/list', cursor === undefined ? {} : { cursor }, { answered });
    });
  }

  /** Sends a request of the bridge's own; rejects (and drops a late answer) when none comes within `timeoutMs`. */
  private ask(method: string, params: unknown, timeoutMs: number): Promise<ChildResponse> {
    return new Promise<ChildResponse>((resolve, reject) => {
      let id = '';
      const timer = setTimeout(
        () => {
          this.forget(id);
          reject(new Error(`${method} timed out`));
        },
        Math.max(0, timeoutMs),
      );
      id = this.request(method, params, {
        answered: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
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
    if (c.kind === 'notification' && c.method === 'notifications/tools/list_changed') {
      this.declarations.changed();
    }
    const leases = this.leases;
    if (leases.length === 1) leases[0]!.fromChild(c);
    else if (leases.length === 0) this.onStray(this, c);
    else this.toShared(c);
  }

  /**
   * A message of the child while several shareable requests run on it: progress goes to the call
   * whose token it names; log lines were asked for by none; a request for input is refused (no
   * client of these calls can answer it); other notifications (list changes) belong to no call.
   */
  private toShared(c: Classified): void {
    if (c.kind === 'notification') {
      if (c.method === 'notifications/progress') {
        const token = (c.msg.params as Record<string, unknown> | undefined)?.progressToken;
        if (typeof token === 'string') this.progressRoutes.get(token)?.fromChild(c);
      } else if (c.method !== 'notifications/message') this.onStray(this, c);
      return;
    }
    if (c.kind !== 'request') return;
    if (c.method === 'ping') return this.respond(c.id, { result: {} });
    this.respond(c.id, {
      error: {
        code: JsonRpcCode.MissingRequiredClientCapability,
        message: `${c.method} is not available: no client of the requests running on this server can answer it`,
      },
    });
  }
}
