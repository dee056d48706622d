import { randomUUID } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { authInfoFor, type FetchRequestInfo } from './caller.js';
import { createFetchCore, type FetchCore } from './core.js';
import { HttpEdgeError, JsonRpcErrorCode } from './errors.js';
import { checkHostAndOrigin } from './http/host-check.js';
import { closeWhenDone } from './http/close-when-done.js';
import { createMcpServer } from './mcp.js';
import { FETCH_SERVER_DEFAULTS, type FetchServerOptions } from './options.js';
import { createModernHandler } from './protocol/modern.js';
import { protocolEra } from './protocol/versions.js';
import { SessionRegistry } from './sessions.js';

/**
 * A web fetch handler for the fetch server, plus a way to shut it down. `info`
 * may name the authenticated caller (`{ caller }`), whose fetches then share
 * one per-caller limit across requests and sessions.
 */
export interface FetchServerHandler {
  (request: Request, info?: FetchRequestInfo): Promise<Response>;
  /**
   * Closes every stateful session, aborts in-flight 2026-07-28 exchanges and ends the HTML
   * conversion worker threads (a conversion still running fails with `aborted`).
   */
  close(): Promise<void>;
  /** The shared fetcher, robots.txt policy and logger. */
  readonly core: FetchCore;
}

const SESSION_HEADER = 'mcp-session-id';

/**
 * Creates the fetch MCP server as a web handler (`Request` → `Response`), to
 * mount in any runtime or in-process in a gateway; use `toNodeListener` for
 * node:http. Routes: `GET /healthz`, and the MCP Streamable HTTP endpoint at
 * `path` (default `/mcp`), which serves both protocol eras on one URL: the
 * version module (`protocol/versions.ts`) sends 2026-07-28 requests to the
 * stateless modern handler and everything else to the 2025-era transport.
 * 2025 traffic is stateless by default (a fresh MCP server and transport per
 * request over the shared fetcher and robots.txt cache), or kept in sessions
 * with `stateful`; 2026 traffic is always stateless.
 *
 * @throws {TypeError} when an option is invalid.
 */
export function createFetchServer(options: FetchServerOptions = {}): FetchServerHandler {
  const core = createFetchCore(options);
  const d = FETCH_SERVER_DEFAULTS;
  const path = options.path ?? d.path;
  const stateful = options.stateful ?? d.stateful;
  const maxRequestBodySize = options.maxBodyBytes ?? d.maxBodyBytes;
  const enableJsonResponse = options.jsonResponse ?? d.jsonResponse;
  const hostPolicy = {
    allowedHosts: options.allowedHosts ?? d.allowedHosts,
    allowedOrigins: options.allowedOrigins,
  };
  const now = options.now ?? Date.now;
  const newSessionId = options.sessionIdGenerator ?? randomUUID;
  const modern = createModernHandler(core, {
    maxBodyBytes: maxRequestBodySize,
    jsonResponse: enableJsonResponse,
  });
  const sessions = new SessionRegistry(
    now,
    options.sessionIdleMs ?? d.sessionIdleMs,
    options.maxSessions ?? d.maxSessions,
  );

  async function stateless(request: Request, authInfo: AuthInfo | undefined): Promise<Response> {
    if (request.method !== 'POST') {
      return new HttpEdgeError(405, JsonRpcErrorCode.ServerError, 'Method not allowed.', {
        allow: 'POST',
      }).toResponse();
    }
    const server = createMcpServer(core);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse,
      maxRequestBodySize,
    });
    await server.connect(transport);
    const response = await transport.handleRequest(request, authInfo ? { authInfo } : undefined);
    return closeWhenDone(response, () => void server.close().catch(() => {}));
  }

  async function withSessions(request: Request, authInfo: AuthInfo | undefined): Promise<Response> {
    await sessions.sweep();
    const id = request.headers.get(SESSION_HEADER);
    if (id !== null) {
      const session = sessions.get(id);
      if (!session) throw new HttpEdgeError(404, JsonRpcErrorCode.SessionNotFound, 'Session not found');
      return session.transport.handleRequest(request, authInfo ? { authInfo } : undefined);
    }
    if (request.method !== 'POST') {
      throw new HttpEdgeError(
        400,
        JsonRpcErrorCode.ServerError,
        'Bad Request: Mcp-Session-Id header is required',
      );
    }
    if (sessions.size >= sessions.maxSessions) {
      throw new HttpEdgeError(503, JsonRpcErrorCode.ServerError, 'Too many sessions; try again later');
    }
    const server = createMcpServer(core);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: newSessionId,
      enableJsonResponse,
      maxRequestBodySize,
      onsessioninitialized: (sid) => sessions.add(sid, { server, transport, lastSeen: now() }),
      onsessionclosed: (sid) => sessions.delete(sid),
    });
    await server.connect(transport);
    const response = await transport.handleRequest(request, authInfo ? { authInfo } : undefined);
    // Not an initialize request (or a failed one): nothing was registered, dispose now.
    if (!transport.sessionId) await server.close().catch(() => {});
    return response;
  }

  const handler = async (request: Request, info?: FetchRequestInfo): Promise<Response> => {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/healthz') {
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
        }
        return Response.json({ status: 'ok' });
      }
      if (url.pathname !== path) return Response.json({ error: 'Not Found' }, { status: 404 });
      checkHostAndOrigin(request, hostPolicy);
      const authInfo = info?.caller === undefined ? undefined : authInfoFor(info.caller);
      if ((await protocolEra(request, maxRequestBodySize)) === 'modern') {
        return await modern.fetch(request, authInfo ? { authInfo } : undefined);
      }
      return await (stateful ? withSessions(request, authInfo) : stateless(request, authInfo));
    } catch (err) {
      if (err instanceof HttpEdgeError) return err.toResponse();
      core.logger.error('request failed', { error: err instanceof Error ? err.message : String(err) });
      return new HttpEdgeError(500, JsonRpcErrorCode.InternalError, 'Internal server error').toResponse();
    }
  };
  const close = async () => {
    try {
      await Promise.all([sessions.closeAll(), modern.close()]);
    } finally {
      await core.close();
    }
  };
  return Object.assign(handler, { close, core });
}
