import type { BridgeStats, ResponseObserver } from '@mcp-gateway/streamablehttp-proxy';
import type { RequestInfo } from '../http/node.js';
import type { Identity } from '../identity.js';
import type { HopTracer } from '../telemetry/mcp-trace.js';

/** What admission learnt about one request, handed to the backend with it. */
export interface BackendCall {
  /** The POST body as admission read it (UTF-8 text), when it read one. */
  body?: string;
  /** The same body as bytes, when the node edge had read it already (no copy is made). */
  bytes?: Uint8Array;
  /**
   * `JSON.parse` of the body when it is JSON (admission parsed it to count tool calls); without
   * `body`, the message itself (for backends that {@link ServiceBackend.readsJson}).
   */
  json?: unknown;
  /** Told of each JSON-RPC response to the request's messages, by backends that parse them anyway. */
  observer?: ResponseObserver;
  /** The edge's socket facts: `info.signal` aborts when the client goes away (made on first use). */
  info?: RequestInfo;
  /** The request's trace, only when telemetry is on: a child span per hop, its context sent on with the hop. */
  trace?: HopTracer | undefined;
  /**
   * The answer may be a late response (`LateBody` of `lazy-response`: status and body settle when
   * the backend answers): the edge writes those and nothing on the way reads the answer's body or
   * status before it settles. Backends that cannot answer late ignore it.
   */
  lateAnswer?: boolean;
}

/**
 * One running MCP service behind the gateway. The gateway has already checked the token and
 * passes the caller's {@link Identity} as a value: headers it owns (`Authorization`, cookies,
 * `x-mcp-gateway-*`…) must never reach the service.
 */
export interface ServiceBackend {
  readonly kind: 'stdio' | 'http' | 'fetch';
  /**
   * True when {@link handle} tells `call.observer` of each response itself (the gateway then does
   * not read the answer's bytes to count tool calls).
   */
  readonly observesResponses?: boolean;
  /**
   * True when {@link handle} reads `call.json` and needs no `call.body` with it (an in-process
   * caller, e.g. a federated endpoint, then hands over the message object without serialising it).
   */
  readonly readsJson?: boolean;
  /** Serves one MCP request for `identity`. */
  handle(request: Request, identity: Identity, call?: BackendCall): Promise<Response>;
  /** True when the service can take requests now. */
  ready(): Promise<boolean>;
  /**
   * The capabilities a 2025 session with the service declares, when the backend knows them
   * without opening one (stdio: the bridge's cached `initialize` answer). Federated endpoints
   * read `resources.subscribe` here, which a 2026-07-28 `server/discover` does not carry.
   */
  sessionCapabilities?(identity: Identity): Promise<Record<string, unknown> | undefined>;
  /** Open sessions (stdio children), when the backend has any. */
  sessions?(): number;
  /** The bridge's counters (caps, rejections, evictions, timeouts, spawns, crashes), for stdio backends. */
  stdioStats?(): BridgeStats;
  /** Ends sessions and children. */
  close(): Promise<void>;
}
