// A 2025-only MCP server for federated tests: SDK 1.x, stateful Streamable HTTP (one
// McpServer per session); anything without a session but `initialize` is 400, as such
// servers answer a 2026-07-28 request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { listenNode } from '@mcp-gateway/testkit';

export interface LegacyServer {
  url: string;
  /** Session ids the server opened, and those a DELETE ended. */
  opened: string[];
  ended: string[];
  /** `GET` streams the sessions opened. */
  gets: number;
  /** Forgets every open session, as a restarted server would: each is then `404` "Session not found". */
  forget(): void;
  close(): Promise<void>;
}

/** Starts the server; `setup` registers the tools of each session's McpServer. */
export async function legacyMcpServer(setup: (mcp: McpServer) => void): Promise<LegacyServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const state = { opened: [] as string[], ended: [] as string[], gets: 0 };
  const forgotten = new Set<string>();
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    const sid = req.headers['mcp-session-id'] as string | undefined;
    let t = sid ? transports.get(sid) : undefined;
    if (!t && !sid && isInitializeRequest(body)) {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          state.opened.push(id);
          transports.set(id, transport);
        },
        onsessionclosed: (id) => {
          state.ended.push(id);
          transports.delete(id);
        },
      });
      const mcp = new McpServer({ name: 'legacy', version: '1' });
      setup(mcp);
      await mcp.connect(transport);
      t = transport;
    }
    if (sid && forgotten.has(sid)) {
      const error = { code: -32001, message: 'Session not found' };
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error }));
      return;
    }
    if (!t) {
      const error = { code: -32000, message: 'Bad Request: No valid session ID provided' };
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error }));
      return;
    }
    if (req.method === 'GET') state.gets++;
    await t.handleRequest(req, res, body);
  }
  const server = await listenNode((req, res) => void handle(req, res));
  return {
    url: server.url,
    opened: state.opened,
    ended: state.ended,
    get gets() {
      return state.gets;
    },
    forget: () => {
      for (const id of transports.keys()) forgotten.add(id);
      transports.clear();
    },
    close: () => server.close(),
  };
}
