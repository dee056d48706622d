/**
 * A real Streamable HTTP server (node:http on 127.0.0.1) that answers the
 * standalone GET stream late (`getDelayMs`) and, like the MCP SDK server for
 * a `server.request()` made without a related request, sends its
 * `elicitation/create` for `tools/call` on that GET stream only: with no GET
 * stream open the request is dropped and the tool answers "no stream". The
 * order in which requests arrive and are answered is recorded in `log`.
 */
import type http from 'node:http';
import { listenNode, type Listening } from '@mcp-gateway/testkit';

export interface LateGetServer extends Listening {
  mcpUrl: string;
  /** `GET answered`, `POST <method>` (on arrival), in order. */
  log: string[];
}

const SESSION = 'late-get-session';

export async function startLateGetServer(getDelayMs: number): Promise<LateGetServer> {
  const log: string[] = [];
  let getStream: http.ServerResponse | undefined;
  const waiting = new Map<string, (result: unknown) => void>();
  let n = 0;
  const l = await listenNode((req, res) => {
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    if (req.method === 'GET') {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': SESSION });
        res.flushHeaders();
        getStream = res;
        log.push('GET answered');
      }, getDelayMs);
      return;
    }
    void new Response(req as unknown as ReadableStream).json().then((body) => {
      const msg = body as { id?: string | number; method?: string; result?: unknown };
      log.push(`POST ${msg.method ?? 'response'}`);
      const json = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
        res.end(JSON.stringify(body));
      };
      if (msg.method === 'initialize') {
        return json({
          jsonrpc: '2.0',
          id: msg.id,
          result: {
            protocolVersion: '2025-06-18',
            capabilities: { tools: {} },
            serverInfo: { name: 'late-get', version: '1' },
          },
        });
      }
      if (msg.method === undefined) {
        waiting.get(JSON.stringify(msg.id))?.(msg.result);
        return void res.writeHead(202).end();
      }
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method !== 'tools/call') return json({ jsonrpc: '2.0', id: msg.id, result: { tools: [] } });
      if (!getStream || getStream.writableEnded) {
        return json({
          jsonrpc: '2.0',
          id: msg.id,
          result: { content: [{ type: 'text', text: 'no stream' }] },
        });
      }
      const askId = `ask-${++n}`;
      waiting.set(JSON.stringify(askId), (result) =>
        json({
          jsonrpc: '2.0',
          id: msg.id,
          result: { content: [{ type: 'text', text: JSON.stringify(result) }] },
        }),
      );
      getStream.write(
        `data: ${JSON.stringify({
          jsonrpc: '2.0',
          id: askId,
          method: 'elicitation/create',
          params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } },
        })}\n\n`,
      );
    });
  });
  return { ...l, mcpUrl: `${l.url}/mcp`, log };
}
