import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { readFileSync } from 'node:fs';
import { fixtureMcpServerCommand } from '@mcp-gateway/testkit';
import { createJsonLogger, serveNode, type ServedBridge, type StdioBridgeOptions } from '../src/index.js';

/** Log lines captured from a bridge under test. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger = createJsonLogger('debug', (line) => void this.lines.push(JSON.parse(line)));
  find(msg: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === msg);
  }
}

const served: ServedBridge[] = [];

/** Serves a bridge around the fixture server on 127.0.0.1:0; closed by {@link closeAll}. */
export async function startBridge(
  opts: Partial<StdioBridgeOptions> = {},
): Promise<ServedBridge & { mcpUrl: string; logs: LogCapture }> {
  const logs = new LogCapture();
  const { command, args } = fixtureMcpServerCommand();
  const s = await serveNode({ command, args, logger: logs.logger, ...opts }, { port: 0 });
  served.push(s);
  return Object.assign(s, { mcpUrl: `${s.url}${opts.path ?? '/mcp'}`, logs });
}

/** Closes every bridge started by {@link startBridge}. */
export async function closeAll(): Promise<void> {
  await Promise.all(served.splice(0).map((s) => s.close()));
}

/** An SDK client over Streamable HTTP that answers sampling requests with `sampled: <prompt>`. */
export async function connectClient(
  url: string,
  opts: { headers?: Record<string, string>; fetch?: typeof fetch } = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: opts.headers ?? {} },
    fetch: opts.fetch,
    reconnectionOptions: {
      initialReconnectionDelay: 10,
      maxReconnectionDelay: 100,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 5,
    },
  });
  const client = new Client({ name: 'bridge-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, (req) => {
    const first = req.params.messages[0]?.content;
    const said = first && 'text' in first ? first.text : '';
    return { role: 'assistant', model: 'stub', content: { type: 'text', text: `sampled: ${said}` } };
  });
  await client.connect(transport);
  return { client, transport };
}

/** The text of a tool result's first content item. */
export function textOf(result: unknown): string {
  return ((result as CallToolResult).content[0] as { text: string }).text;
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** Headers of a raw MCP POST. */
export const POST_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** A raw MCP POST of `body` (a JSON value, or text as is); `headers` add to or replace {@link POST_HEADERS}. */
export function mcpPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...POST_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A raw `initialize` body. */
export function initializeBody(id: number | string = 1, protocolVersion = '2025-11-25'): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
}

/** Opens a session with raw fetch (JSON answers); returns its id. */
export async function rawSession(mcpUrl: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: initializeBody(),
  });
  if (res.status !== 200) throw new Error(`initialize answered ${res.status}: ${await res.text()}`);
  await res.text();
  const id = res.headers.get('mcp-session-id');
  if (!id) throw new Error('no session id');
  await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-session-id': id,
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return id;
}

/**
 * True while `pid` is a running process. A zombie (exited, not yet reaped
 * by its new parent) counts as gone: it holds no resources and runs nothing.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
