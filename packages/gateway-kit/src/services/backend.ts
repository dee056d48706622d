import type http from 'node:http';
import type { BridgeStats, ResponseObserver } from '@mcp-gateway/streamablehttp-proxy';
import type { Identity } from '../identity.js';

/** What the gateway hands a backend that serves a request straight on node:http. */
export interface NodeServiceInit {
  /** The request body, already read and size-checked by the gateway (POST only). */
  body: Uint8Array | undefined;
  /** `JSON.parse` of `body` when it is JSON (the gateway parsed it to count tool calls), else `undefined`. */
  json: unknown;
  /** Request headers (lower-case) the backend must not see: the client's token and headers the gateway owns. */
  hide: string[];
  /** Headers to add to the response (CORS, `x-request-id`). */
  responseHeaders: Record<string, string>;
  /** Told of each JSON-RPC response to the request's messages, as parsed on its way back (tool-call metrics). */
  observer?: ResponseObserver;
}

/**
 * One running MCP service behind the gateway. The gateway has already checked
 * the token; the request it passes has no `Authorization` header and its path
 * is the backend's own endpoint (`/mcp`).
 */
export interface ServiceBackend {
  readonly kind: 'stdio' | 'http' | 'fetch';
  /** Serves one MCP request for `identity`. `body` is the already-read POST body. */
  handle(request: Request, identity: Identity, body?: string): Promise<Response>;
  /**
   * Optional fast path: serves the request on node:http directly, without
   * fetch `Request`/`Response` objects. Resolves with the status once the
   * response has been handed to `res` (a stream may still be open).
   */
  handleNode?(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    identity: Identity,
    init: NodeServiceInit,
  ): Promise<{ status: number }>;
  /** True when the service can take requests now. */
  ready(): Promise<boolean>;
  /** Open sessions (stdio children), when the backend has any. */
  sessions?(): number;
  /** The bridge's counters (caps, rejections, evictions, timeouts, spawns, crashes), for stdio backends. */
  stdioStats?(): BridgeStats;
  /** Ends sessions and children. */
  close(): Promise<void>;
}
