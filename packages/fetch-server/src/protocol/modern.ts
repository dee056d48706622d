import {
  createMcpHandler,
  McpServer,
  type CacheHint,
  type McpHttpHandler,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { callerFromAuthInfo, instanceCaller } from '../caller.js';
import type { FetchCore } from '../core.js';
import { JSONRPC_ERROR_CODES } from '@mcp-gateway/internal/jsonrpc-error';
import { FETCH_PROMPT_DESCRIPTION, fetchPromptArgs, runFetchPrompt } from '../prompt.js';
import { FETCH_TOOL_ANNOTATIONS, FETCH_TOOL_DESCRIPTION, fetchToolInput, runFetchTool } from '../tool.js';
import { SERVER_NAME, VERSION } from '../version.js';
import { SERVED_PROTOCOL_VERSIONS } from './versions.js';

/**
 * Caching hints (SEP-2549) for the cacheable results: the tool and prompt
 * lists and the discover result are the same for every caller and fixed for
 * the life of the process, so shared caches may keep them for an hour.
 */
export const CACHE_HINT: CacheHint = { ttlMs: 60 * 60 * 1000, cacheScope: 'public' };

/**
 * Builds a 2026-07-28 MCP server (MCP SDK 2.x) with the same `fetch` tool and
 * `fetch` prompt as the 2025-era `createMcpServer`. The lists never change at
 * run time, so `listChanged` is advertised as `false` (nothing to subscribe to
 * on `subscriptions/listen`).
 */
export function createModernMcpServer(core: FetchCore): McpServer {
  const instance = instanceCaller();
  const server = new McpServer(
    { name: SERVER_NAME, version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, prompts: { listChanged: false } },
      cacheHints: { 'server/discover': CACHE_HINT, 'tools/list': CACHE_HINT, 'prompts/list': CACHE_HINT },
    },
  );
  server.registerTool(
    'fetch',
    {
      description: FETCH_TOOL_DESCRIPTION,
      inputSchema: z.object(fetchToolInput),
      annotations: FETCH_TOOL_ANNOTATIONS,
    },
    (args, ctx) =>
      runFetchTool(
        core,
        args,
        ctx.mcpReq.signal,
        ctx.mcpReq._meta,
        callerFromAuthInfo(ctx.http?.authInfo) ?? instance,
      ),
  );
  server.registerPrompt(
    'fetch',
    { description: FETCH_PROMPT_DESCRIPTION, argsSchema: z.object(fetchPromptArgs) },
    ({ url }, ctx) =>
      runFetchPrompt(core, url, ctx.mcpReq.signal, callerFromAuthInfo(ctx.http?.authInfo) ?? instance),
  );
  return server;
}

/** Options of {@link createModernHandler}. */
export interface ModernHandlerOptions {
  /** POST body cap in bytes (413 above it, before parsing). */
  maxBodyBytes: number;
  /** `true`: plain JSON unless a notification precedes the result; `false`: always SSE. */
  jsonResponse: boolean;
}

/**
 * The 2026-07-28 leg of the endpoint: SDK 2.x `createMcpHandler` in strict
 * modern mode (`legacy: 'reject'`; 2025 traffic never reaches it, the version
 * module routes that to the SDK 1.x transport). Every request gets a fresh
 * server instance and is answered statelessly: `_meta` envelope (-32602),
 * `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` against the body (-32020,
 * 400), unsupported revision (-32022, 400), unknown or removed method
 * (`initialize`, `ping`, … : -32601, 404), `server/discover`, caching hints
 * (`ttlMs`, `cacheScope`) on lists and `resultType` on every result.
 */
export function createModernHandler(core: FetchCore, options: ModernHandlerOptions): McpHttpHandler {
  const handler = createMcpHandler(() => createModernMcpServer(core), {
    legacy: 'reject',
    // 'json' would drop progress notifications and warn on every start; 'auto' answers JSON unless one is sent.
    responseMode: options.jsonResponse ? 'auto' : 'sse',
    maxRequestBodySize: options.maxBodyBytes,
    onerror: (error) => core.logger.info('mcp request refused', { error: error.message }),
  });
  return {
    ...handler,
    fetch: async (request, opts) => {
      const discover = request.headers.get('mcp-method') === 'server/discover';
      return servedVersionsIn(await handler.fetch(request, opts), discover);
    },
  };
}

/**
 * `response` listing every served version where the SDK lists its modern
 * revisions only: `supportedVersions` of a `server/discover` result
 * (`discover`: the request's `Mcp-Method`, which the SDK has checked against
 * the body) and `data.supported` of a `-32022`. A dual-era server lists every
 * version it supports (2026-07-28 basic/versioning). Only these small answers
 * are read (JSON, or the SSE stream that carries the discover result alone).
 */
async function servedVersionsIn(response: Response, discover: boolean): Promise<Response> {
  const ok = discover && response.status === 200;
  if (!ok && response.status !== 400) return response;
  const type = response.headers.get('content-type') ?? '';
  const sse = type.startsWith('text/event-stream');
  if (!sse && !type.includes('json')) return response;
  const text = await response.text();
  const edited = sse
    ? text.replace(/^data: ?(.*)$/gm, (line, json: string) => {
        const msg = withServedVersions(json);
        return msg === undefined ? line : `data: ${msg}`;
      })
    : (withServedVersions(text) ?? text);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(edited, { status: response.status, statusText: response.statusText, headers });
}

/** One JSON-RPC message with every served version listed, or `undefined` when it names none. */
function withServedVersions(json: string): string | undefined {
  let msg: {
    result?: { supportedVersions?: unknown };
    error?: { code?: unknown; data?: { supported?: unknown } };
  };
  try {
    msg = JSON.parse(json) as typeof msg;
  } catch {
    return undefined;
  }
  if (Array.isArray(msg.result?.supportedVersions)) {
    msg.result.supportedVersions = [...SERVED_PROTOCOL_VERSIONS];
  } else if (
    msg.error?.code === JSONRPC_ERROR_CODES.UnsupportedProtocolVersion &&
    typeof msg.error.data === 'object' &&
    msg.error.data !== null
  ) {
    msg.error.data.supported = [...SERVED_PROTOCOL_VERSIONS];
  } else return undefined;
  return JSON.stringify(msg);
}
