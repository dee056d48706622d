import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { callerFromAuthInfo, instanceCaller } from './caller.js';
import type { FetchCore } from './core.js';
import { FETCH_PROMPT_DESCRIPTION, fetchPromptArgs, runFetchPrompt } from './prompt.js';
import { FETCH_TOOL_ANNOTATIONS, FETCH_TOOL_DESCRIPTION, fetchToolInput, runFetchTool } from './tool.js';
import { SERVER_NAME, VERSION } from './version.js';

/**
 * Builds a 2025-era MCP server (MCP SDK 1.x) with the `fetch` tool and the
 * `fetch` prompt (as the official server has). Cheap: the fetcher and
 * robots.txt cache live in `core` and are shared, so a new server per
 * request costs little. The 2026-07-28 twin is `createModernMcpServer`.
 *
 * Fetches count against the per-caller limit as the caller in the request's
 * `authInfo` (see `FetchRequestInfo.caller`), else as this server instance.
 */
export function createMcpServer(core: FetchCore): McpServer {
  const instance = instanceCaller();
  const server = new McpServer({ name: SERVER_NAME, version: VERSION });
  server.registerTool(
    'fetch',
    { description: FETCH_TOOL_DESCRIPTION, inputSchema: fetchToolInput, annotations: FETCH_TOOL_ANNOTATIONS },
    (args, extra) =>
      runFetchTool(core, args, extra.signal, extra._meta, callerFromAuthInfo(extra.authInfo) ?? instance),
  );
  server.registerPrompt(
    'fetch',
    { description: FETCH_PROMPT_DESCRIPTION, argsSchema: fetchPromptArgs },
    ({ url }, extra) =>
      runFetchPrompt(core, url, extra.signal, callerFromAuthInfo(extra.authInfo) ?? instance),
  );
  return server;
}
