/**
 * Real MCP servers for tests, built from the MCP SDK (`McpServer` +
 * `StreamableHTTPServerTransport`) on node:http: plain, or behind the SDK's
 * own OAuth pieces (`mcpAuthRouter`, `requireBearerAuth`, the demo in-memory
 * provider extended with rotating refresh tokens). Not our server code.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { isInitializeRequest, ListRootsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import { listenNode, type Listening } from '@mcp-gateway/testkit';

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

/** A fresh McpServer with a few tools, a resource and a prompt. */
export function buildMcpServer(): McpServer {
  const server = new McpServer(
    { name: 'test-http-server', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool(
    'echo',
    { description: 'Returns its input', inputSchema: { message: z.string() } },
    ({ message }) => text(message),
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }) => text(String(a + b)),
  );
  server.registerTool('whoami', { description: 'The token the server saw' }, (extra) =>
    text(
      JSON.stringify({ clientId: extra.authInfo?.clientId ?? null, scopes: extra.authInfo?.scopes ?? [] }),
    ),
  );
  server.registerTool('fail', { description: 'A tool error' }, () => ({
    ...text('it failed'),
    isError: true,
  }));
  server.registerTool(
    'progress',
    {
      description: 'Sends a log notification, then answers',
      inputSchema: { steps: z.number().int().min(1) },
    },
    async ({ steps }, extra) => {
      for (let i = 1; i <= steps; i++) {
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', data: `step ${i}` },
        });
      }
      return text(`done ${steps}`);
    },
  );
  server.registerTool(
    'roots',
    { description: 'Asks the client for its roots (a server → client request)' },
    async (extra) => {
      const result = await extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema);
      return text(result.roots.map((r) => r.uri).join(','));
    },
  );
  server.registerResource('hello', 'test://hello', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'hello resource' }],
  }));
  server.registerPrompt('greet', { description: 'Greets', argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }],
  }));
  return server;
}

/** Per-request log entry. */
export interface SeenRequest {
  method: string;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  lastEventId: string | undefined;
  authorization: string | undefined;
  rpcMethod: string | undefined;
}

/** Options of {@link mcpHandler}. */
export interface McpHandlerOptions {
  /** Answer POSTs with JSON instead of SSE. */
  jsonResponse?: boolean;
}

/** A stateful Streamable HTTP endpoint (one transport per session), with hooks for tests. */
export interface McpEndpoint {
  handle: (
    req: http.IncomingMessage & { body?: unknown; auth?: AuthInfo },
    res: http.ServerResponse,
  ) => Promise<void>;
  /** Forgets every session, as a restarted server would (their ids now get 404). */
  dropSessions(): void;
  sessionIds(): string[];
  /** The McpServer of every session opened so far. */
  servers: McpServer[];
  seen: SeenRequest[];
  deleted: string[];
}

export function mcpHandler(opts: McpHandlerOptions = {}): McpEndpoint {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const seen: SeenRequest[] = [];
  const deleted: string[] = [];
  const servers: McpServer[] = [];
  const handle: McpEndpoint['handle'] = async (req, res) => {
    const sid = req.headers['mcp-session-id'] as string | undefined;
    const body = req.body as { method?: unknown } | undefined;
    seen.push({
      method: req.method ?? '',
      sessionId: sid,
      protocolVersion: req.headers['mcp-protocol-version'] as string | undefined,
      lastEventId: req.headers['last-event-id'] as string | undefined,
      authorization: req.headers.authorization,
      rpcMethod: typeof body?.method === 'string' ? body.method : undefined,
    });
    if (sid) {
      const t = sessions.get(sid);
      if (!t) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: -32001, message: 'Session not found' },
          }),
        );
        return;
      }
      if (req.method === 'DELETE') deleted.push(sid);
      await t.handleRequest(req, res, req.body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(req.body)) {
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: opts.jsonResponse ?? false,
        eventStore: new InMemoryEventStore(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      const server = buildMcpServer();
      servers.push(server);
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
      return;
    }
    res.writeHead(400, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: 'Bad Request: no valid session' },
      }),
    );
  };
  return {
    handle,
    dropSessions() {
      for (const t of sessions.values()) t.onclose = undefined;
      sessions.clear();
    },
    sessionIds: () => [...sessions.keys()],
    servers,
    seen,
    deleted,
  };
}

/** A plain (no auth) MCP server at `/mcp`. */
export async function startMcpServer(
  opts: McpHandlerOptions = {},
): Promise<Listening & { mcpUrl: string; endpoint: McpEndpoint }> {
  const endpoint = mcpHandler(opts);
  const app = express();
  app.use(express.json());
  app.all('/mcp', (req, res) => void endpoint.handle(req, res));
  const l = await listenNode(app);
  return { ...l, mcpUrl: `${l.url}/mcp`, endpoint };
}
