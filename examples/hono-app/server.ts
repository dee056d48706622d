// Someone else's MCP server (an MCP SDK server on Hono), protected with
// @mcp-gateway/oauth-dynamicclient: the authorization server answers every
// route but /mcp, and /mcp needs a valid token for it.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createAuthorizationServer, hashPassword } from '@mcp-gateway/oauth-dynamicclient';
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
const guard = as.requireBearer({ resource, scopes: ['notes'] });

const app = new Hono();
app.post('/mcp', async (c) => {
  const check = await guard(c.req.raw);
  if (!check.ok) return check.response; // 401 with resource_metadata, or 403 insufficient_scope
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who is calling.' }, () => ({
    content: [{ type: 'text', text: `hello ${check.token.login ?? check.token.sub}` }],
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw);
});
app.all('*', (c) => as.fetch(c.req.raw)); // metadata, /register, /authorize, /token, …
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
  console.log(`notes MCP server on ${resource}`),
);
