import type { Identity } from '../identity.js';

/**
 * One running MCP service behind the gateway. The gateway has already checked
 * the token; the request it passes has no `Authorization` header and its path
 * is the backend's own endpoint (`/mcp`).
 */
export interface ServiceBackend {
  readonly kind: 'stdio' | 'http' | 'fetch';
  /** Serves one MCP request for `identity`. `body` is the already-read POST body. */
  handle(request: Request, identity: Identity, body?: string): Promise<Response>;
  /** True when the service can take requests now. */
  ready(): Promise<boolean>;
  /** Open sessions (stdio children), when the backend has any. */
  sessions?(): number;
  /** Ends sessions and children. */
  close(): Promise<void>;
}
