/**
 * A small stdio MCP server shipped with gateway-kit, so the embedded defaults
 * serve a real stdio service with nothing else installed. Tools: `echo`, `add`,
 * `whoami` (the identity the gateway bound to this session, from
 * `MCP_USER_ID`/`MCP_USER_NAME`), `time`, `sleep` (a long call with progress, to
 * see request deadlines at work) and `crash` (ends the process, to see how the
 * gateway copes).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'mcp-gateway-demo', version: '1.0.0' });

server.registerTool(
  'echo',
  { description: 'Returns the text it is given.', inputSchema: { text: z.string() } },
  ({ text }) => ({ content: [{ type: 'text', text }] }),
);

server.registerTool(
  'add',
  { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } },
  ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
);

server.registerTool(
  'whoami',
  { description: 'The user this session belongs to, as the gateway told the server.' },
  () => ({
    content: [
      {
        type: 'text',
        text: JSON.stringify({
          id: process.env.MCP_USER_ID ?? null,
          name: process.env.MCP_USER_NAME ?? null,
          pid: process.pid,
        }),
      },
    ],
  }),
);

server.registerTool('time', { description: 'The current time (ISO 8601, UTC).' }, () => ({
  content: [{ type: 'text', text: new Date().toISOString() }],
}));

server.registerTool(
  'sleep',
  {
    description:
      'Waits `seconds` (at most 600), sending progress each second when the caller asked for it. Cancellation ends the wait.',
    inputSchema: { seconds: z.number().min(0).max(600) },
  },
  async ({ seconds }, extra) => {
    const token = extra._meta?.progressToken;
    const end = Date.now() + seconds * 1000;
    for (let step = 0; Date.now() < end && !extra.signal.aborted; step++) {
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: step, total: Math.ceil(seconds) },
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1000, end - Date.now()));
        extra.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    const text = extra.signal.aborted ? 'cancelled' : `slept ${seconds} s`;
    return { content: [{ type: 'text', text }] };
  },
);

server.registerTool('crash', { description: 'Ends this server process at once (exit code 3).' }, () => {
  process.exit(3);
});

await server.connect(new StdioServerTransport());
