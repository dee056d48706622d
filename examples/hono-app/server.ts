// Someone else's MCP server (an MCP SDK server on Hono), protected with
// @mcp-gateway/oauth-dynamicclient: the authorization server answers every
// route but /mcp, and /mcp needs a valid token for it.
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { createAuthorizationServer, hashPassword } from '@mcp-gateway/oauth-dynamicclient';
import { bearerAuth } from '@mcp-gateway/oauth-dynamicclient/hono';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

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

const app = new Hono<{ Bindings: HttpBindings }>();
// 401/403 with the RFC 9728 challenge, or c.get('auth') (the MCP SDK's AuthInfo) for the handler.
app.post('/mcp', bearerAuth({ verifier: as, resource, scopes: ['notes'] }), async (c) => {
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who is calling.' }, ({ authInfo }) => ({
    content: [{ type: 'text', text: `hello ${String(authInfo?.extra?.login)}` }],
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw, { authInfo: c.get('auth') });
});
// metadata, /register, /authorize, /token, … (the peer address keys the rate limits)
app.all('*', (c) => as.fetch(c.req.raw, { remoteAddress: c.env.incoming.socket.remoteAddress }));
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
  console.log(`notes MCP server on ${resource}`),
);
