/**
 * The no-bridge reference: the MCP SDK's own Streamable HTTP server with an
 * in-process McpServer per session, serving the same `echo` tool as the
 * fixture. Usage: tsx sdk-server.ts <port>
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? 3000);
const transports = new Map<string, StreamableHTTPServerTransport>();

function newServer(): McpServer {
  const server = new McpServer({ name: 'sdk-reference', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its input', inputSchema: { text: z.string() } },
    ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );
  return server;
}

const httpServer = http.createServer((req, res) => {
  const sid = req.headers['mcp-session-id'];
  const existing = typeof sid === 'string' ? transports.get(sid) : undefined;
  if (existing) {
    void existing.handleRequest(req, res);
    return;
  }
  if (sid !== undefined) {
    res.writeHead(404).end();
    return;
  }
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => void transports.set(id, transport),
  });
  transport.onclose = () => {
    if (transport.sessionId) transports.delete(transport.sessionId);
  };
  void newServer()
    .connect(transport)
    .then(() => transport.handleRequest(req, res));
});
httpServer.listen(port, '127.0.0.1', () => console.error(`sdk reference listening on ${port}`));
