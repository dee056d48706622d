// Someone else's MCP server (an MCP SDK server in Express), protected with
// @mcp-gateway/oauth-dynamicclient: the authorization server is mounted in the
// same app, and /mcp answers only requests with a valid token for it.
import express from 'express';
import { createAuthorizationServer, hashPassword, toNodeListener } from '@mcp-gateway/oauth-dynamicclient';
import { bearerAuth } from '@mcp-gateway/oauth-dynamicclient/express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const port = Number(process.env.PORT ?? 3000);
const base = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
const resource = `${base}/mcp`;
const as = createAuthorizationServer({
  issuer: base,
  resources: [{ resource, scopes: ['notes'], name: 'Notes' }],
  identityProvider: {
    type: 'local',
    users: [
      { username: 'demo', passwordHash: await hashPassword(process.env.DEMO_PASSWORD ?? 'demo-password') },
    ],
  },
});

const app = express();
// 401/403 with the RFC 9728 challenge, or req.auth (the MCP SDK's AuthInfo) for the handler.
app.post(
  '/mcp',
  bearerAuth({ verifier: as, resource, scopes: ['notes'] }),
  express.json(),
  async (req, res) => {
    const server = new McpServer({ name: 'notes', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who is calling.' }, ({ authInfo }) => ({
      content: [{ type: 'text', text: `hello ${String(authInfo?.extra?.login)}` }],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  },
);
app.use(toNodeListener((request, info) => as.fetch(request, info))); // metadata, /register, /authorize, /token, …
app.listen(port, '127.0.0.1', () => console.log(`notes MCP server on ${resource}`));
