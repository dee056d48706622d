import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Prompt, Resource, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  connect,
  mcpFetch,
  requestTimeoutOf,
  SDK_UNTIMED_MS,
  sessionFor,
  type ConnectOptions,
} from './connect.js';
import { withinDeadline } from './http/deadline.js';
import { toClientError } from './http/mcp-errors.js';
import { silentLogger } from './log.js';
import { ModernClient } from './protocol/client.js';
import { defaultEraCache, probeEra, type EraCache } from './protocol/era.js';
import { revealsModern } from './protocol/era-errors.js';
import { allowsModern, MODERN_VERSION, type Era, type ProtocolPreference } from './protocol/versions.js';

type Json = Record<string, unknown>;

/**
 * One MCP server, whichever era it speaks: the calls the CLI's one-shot
 * commands make, with the same shapes as the MCP SDK `Client`'s.
 */
export interface McpConnection {
  /** `modern` (2026-07-28, no session) or `legacy` (2025, `initialize` and a session). */
  readonly era: Era;
  listTools(): Promise<{ tools: Tool[] }>;
  callTool(p: { name: string; arguments?: Json }): Promise<Json>;
  listResources(): Promise<{ resources: Resource[] }>;
  readResource(p: { uri: string }): Promise<{ contents: Array<Json & { mimeType?: string }> }>;
  listPrompts(): Promise<{ prompts: Prompt[] }>;
  getPrompt(p: { name: string; arguments?: Record<string, string> }): Promise<{
    messages: Array<{ role: string; content: { type: string; text?: string } }>;
  }>;
  /** Sends one JSON-RPC request (with an `id`) or notification; resolves with the response (`undefined` for a notification). */
  raw(message: Json): Promise<Json | undefined>;
  /** Ends the session (2025) and closes. */
  close(): Promise<void>;
}

/** Options of {@link openConnection}. */
export interface OpenConnectionOptions extends ConnectOptions {
  /** `auto` (default) probes with `server/discover`; a revision pins the era. */
  protocol?: ProtocolPreference;
  /** Era decisions per server URL. Default: the process-wide cache. */
  eraCache?: EraCache;
}

/**
 * Connects to an MCP server in the era it speaks (MCP 2026-07-28 "client
 * side"): the `server/discover` probe decides, once per URL (cached); a 2025
 * server gets `initialize` and a session as from {@link connect}. A probe that
 * cannot tell (the server failing, a network error) fails this call and
 * remembers nothing. A remembered era is forgotten when the server later
 * answers as only the other era does (basic/versioning "Backward
 * Compatibility": "re-probing if the cached assumption later fails"); a
 * remembered 2025 whose `initialize` such an answer refuses is probed again at
 * once.
 *
 * ```ts
 * const c = await openConnection('https://mcp.example.com/mcp', { oauth: true });
 * console.log(c.era, (await c.listTools()).tools);
 * await c.close();
 * ```
 */
export async function openConnection(
  url: string | URL,
  opts: OpenConnectionOptions = {},
): Promise<McpConnection> {
  const target = new URL(url);
  const cache = opts.eraCache ?? defaultEraCache;
  const cachedLegacy = (opts.protocol ?? 'auto') === 'auto' && cache.get(target) === 'legacy';
  try {
    return await open(target, opts, cache);
  } catch (err) {
    if (!cachedLegacy || !revealsModern(err)) throw err;
    cache.delete(target);
    opts.logger?.info('the server refused initialize as a 2026-07-28 server does; probing its era again');
    return open(target, opts, cache);
  }
}

async function open(target: URL, opts: OpenConnectionOptions, cache: EraCache): Promise<McpConnection> {
  const protocol = opts.protocol ?? 'auto';
  if (allowsModern(protocol) && (protocol !== 'auto' || cache.get(target) !== 'legacy')) {
    const client = new ModernClient({
      url: target,
      fetch: mcpFetch(sessionFor(target, opts), opts),
      clientInfo: opts.clientInfo ?? { name: 'mcp-streamablehttp-client', version: '0' },
      version: MODERN_VERSION,
      logger: opts.logger ?? silentLogger,
      onLegacySign: () => cache.delete(target),
    });
    const known = cache.get(target) === 'modern' || protocol === MODERN_VERSION;
    const ms = requestTimeoutOf(opts);
    const decision = known
      ? undefined
      : await withinDeadline(target.href, ms, 'did not answer server/discover', (signal) =>
          probeEra(client, opts.logger, signal),
        ).catch((err: unknown) => {
          throw toClientError(err, target.href);
        });
    if (!decision || decision.era === 'modern') {
      if (decision) cache.set(target, 'modern');
      return modernConnection(client, ms);
    }
    cache.set(target, 'legacy');
    opts.logger?.info('the server speaks MCP 2025 (session)', { reason: decision.reason });
  }
  return legacyConnection(await connect(target, opts), target, requestTimeoutOf(opts));
}

/**
 * A 2026-07-28 connection: each request's whole answer (its `input_required`
 * rounds and the `tools/list` read for its headers included) must arrive
 * within `ms`, as on the 2025 path; an answer stream that stays open without
 * the answer is given up then. An OAuth sign-in during the request is not
 * timed (the auth fetch stops the clock while it waits for credentials).
 */
function modernConnection(client: ModernClient, ms: number): McpConnection {
  const timed = <T>(method: string, run: (signal: AbortSignal) => Promise<T>) =>
    withinDeadline(client.url.href, ms, `did not answer ${method}`, run);
  const req = <T>(method: string, params: Json = {}) =>
    timed(method, (signal) => client.request(method, params, { signal }) as Promise<T & Json>);
  return {
    era: 'modern',
    listTools: () => req('tools/list'),
    callTool: (p) => req('tools/call', { name: p.name, arguments: p.arguments ?? {} }),
    listResources: () => req('resources/list'),
    readResource: (p) => req('resources/read', p),
    listPrompts: () => req('prompts/list'),
    getPrompt: (p) =>
      req('prompts/get', p.arguments ? { name: p.name, arguments: p.arguments } : { name: p.name }),
    async raw(message) {
      const method = String(message.method);
      const params = (message.params as Json | undefined) ?? {};
      if (!('id' in message) && method.startsWith('notifications/')) return undefined;
      const answer = await timed(method, (signal) => client.call(method, params, { signal }));
      const { status: _status, ...response } = answer;
      return { jsonrpc: '2.0', ...response, id: message.id as string | number };
    },
    close: async () => undefined,
  };
}

/**
 * A 2025 connection: each request's whole answer must arrive within `ms`
 * (its headers are timed by the fetch as well). The deadline is ours, not the
 * MCP SDK's: an OAuth sign-in during the request is not timed.
 */
function legacyConnection(client: Client, url: URL, ms: number): McpConnection {
  const timed = <T>(method: string, call: (o: RequestOptions) => Promise<T>) =>
    withinDeadline(url.href, ms, `did not answer ${method}`, (signal) =>
      call({ signal, timeout: SDK_UNTIMED_MS }),
    );
  return {
    era: 'legacy',
    listTools: () => timed('tools/list', (o) => client.listTools(undefined, o)),
    callTool: (p) => timed('tools/call', (o) => client.callTool(p, undefined, o)),
    listResources: () => timed('resources/list', (o) => client.listResources(undefined, o)),
    readResource: (p) => timed('resources/read', (o) => client.readResource(p, o)),
    listPrompts: () => timed('prompts/list', (o) => client.listPrompts(undefined, o)),
    getPrompt: (p) => timed('prompts/get', (o) => client.getPrompt(p, o)),
    raw: (message) => timed(String(message.method), ({ signal }) => legacyRaw(client, message, signal!)),
    async close() {
      const t = client.transport;
      if (t instanceof StreamableHTTPClientTransport) await t.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/** Sends `m` as it is; a request's answer is awaited until `signal` aborts. */
async function legacyRaw(client: Client, m: Json, signal: AbortSignal): Promise<Json | undefined> {
  const transport = client.transport as StreamableHTTPClientTransport;
  if (!('id' in m)) {
    await transport.send(m as never);
    return undefined;
  }
  const previous = transport.onmessage;
  const answer = new Promise<Json>((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    transport.onmessage = (msg) => {
      if ('id' in msg && msg.id === m.id && !('method' in msg)) resolve(msg);
      else previous?.(msg);
    };
  });
  answer.catch(() => undefined); // a failed send is the error
  try {
    await transport.send(m as never);
    return await answer;
  } finally {
    transport.onmessage = previous;
  }
}
