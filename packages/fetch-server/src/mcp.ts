import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { FetchCore } from './core.js';
import { FetchError } from './errors.js';
import { FETCH_TOOL_DESCRIPTION, fetchPage, fetchToolInput, runFetchTool } from './tool.js';
import { VERSION } from './version.js';

/**
 * Builds an MCP server with the `fetch` tool and the `fetch` prompt (as the
 * official server has). Cheap: the fetcher and robots.txt cache live in
 * `core` and are shared, so a new server per request costs little.
 */
export function createMcpServer(core: FetchCore): McpServer {
  const server = new McpServer({ name: 'mcp-gateway-fetch', version: VERSION });
  server.registerTool(
    'fetch',
    {
      description: FETCH_TOOL_DESCRIPTION,
      inputSchema: fetchToolInput,
      annotations: { title: 'Fetch', readOnlyHint: true, openWorldHint: true },
    },
    (args, extra) => runFetchTool(core, args, extra.signal),
  );
  server.registerPrompt(
    'fetch',
    {
      description: 'Fetch a URL and extract its contents as markdown',
      argsSchema: { url: z.string().describe('URL to fetch') },
    },
    // A prompt is picked by the user, not the model: like the official server, no robots.txt check.
    async ({ url }, extra): Promise<GetPromptResult> => {
      try {
        const page = await fetchPage(core, url, { raw: false, checkRobots: false, signal: extra.signal });
        return {
          description: `Contents of ${url}`,
          messages: [{ role: 'user', content: { type: 'text', text: page.prefix + page.text } }],
        };
      } catch (err) {
        const message = err instanceof FetchError ? err.message : `Fetching ${url} failed unexpectedly`;
        return {
          description: `Failed to fetch ${url}`,
          messages: [{ role: 'user', content: { type: 'text', text: message } }],
        };
      }
    },
  );
  return server;
}
