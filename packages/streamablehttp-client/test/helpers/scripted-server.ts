/**
 * A minimal MCP server on 127.0.0.1, 2026-07-28 (answers `server/discover`,
 * no session) or 2025 (refuses `server/discover` as a 2025 server without a
 * session does; `initialize` starts one), whose answer to each request the
 * test scripts: answer at once, never answer (no status line, no headers),
 * open an SSE answer and then say nothing, answer once a promise settles, or
 * answer with a `Response` the test makes (a failure, say).
 */
import { listen, type Listening } from '@mcp-gateway/testkit';

/** What the server does with a request (a POST's JSON-RPC method, or `DELETE`). */
export type Behaviour =
  'answer' | 'hang' | 'silent-stream' | { after: Promise<unknown> } | { reply: (id: unknown) => Response };

export interface ScriptedServer extends Listening {
  mcpUrl: string;
  /** Every request as it arrived: the JSON-RPC method of a POST, else the HTTP method. */
  received: string[];
  /** Resolves once a request for `method` has arrived. */
  arrived(method: string): Promise<void>;
}

const SESSION = 'scripted-session';

function result(era: 'modern' | 'legacy', method: string): Record<string, unknown> {
  switch (method) {
    case 'server/discover':
      return {
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: {} },
        serverInfo: { name: 'scripted-2026', version: '1' },
      };
    case 'initialize':
      return {
        protocolVersion: '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: `scripted-${era === 'modern' ? '2026' : '2025'}`, version: '1' },
      };
    case 'tools/list':
      return { tools: [{ name: 'slow', inputSchema: { type: 'object' } }] };
    case 'tools/call':
      return { content: [{ type: 'text', text: 'done' }] };
    default:
      return {};
  }
}

export async function startScriptedServer(
  era: 'modern' | 'legacy',
  behaviour: (method: string) => Behaviour = () => 'answer',
): Promise<ScriptedServer> {
  const received: string[] = [];
  const waiters: Array<{ method: string; resolve: () => void }> = [];
  const l = await listen(async (req) => {
    let message: { id?: unknown; method?: string } = {};
    if (req.method === 'POST') message = (await req.json()) as typeof message;
    const method = req.method === 'POST' ? String(message.method) : req.method;
    received.push(method);
    for (const w of waiters.filter((x) => x.method === method)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (req.method === 'GET') return new Response(null, { status: 405 });
    const b = behaviour(method);
    if (b === 'hang') return new Promise<Response>(() => undefined);
    if (typeof b === 'object' && 'reply' in b) return b.reply(message.id ?? null);
    if (typeof b === 'object') await b.after;
    if (req.method === 'DELETE') return new Response(null, { status: 200 });
    if (message.id === undefined) return new Response(null, { status: 202 });
    const session: Record<string, string> = era === 'legacy' ? { 'mcp-session-id': SESSION } : {};
    if (b === 'silent-stream')
      return new Response(
        new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(': open\n\n')) }),
        {
          headers: { 'content-type': 'text/event-stream', ...session },
        },
      );
    if (era === 'legacy' && method === 'server/discover')
      return Response.json(
        {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
        },
        { status: 400 },
      );
    return Response.json(
      { jsonrpc: '2.0', id: message.id, result: result(era, method) },
      { headers: session },
    );
  });
  return {
    ...l,
    mcpUrl: `${l.url}/mcp`,
    received,
    arrived: (method) =>
      received.includes(method)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ method, resolve })),
  };
}
