/**
 * A real Streamable HTTP server (node:http on 127.0.0.1) that misbehaves on
 * purpose: per request method it answers, ends the SSE stream early, cuts
 * the connection mid-event, or sends a resumable priming event and then
 * refuses the resume. For the bridge's "every request gets one answer" rule.
 */
import type http from 'node:http';
import { listenNode, type Listening } from '@mcp-gateway/testkit';

/** What the server does with a POSTed request. */
export type Behaviour =
  /** An SSE answer with the result. */
  | 'answer'
  /** A notification, then the SSE stream ends (no event ids: not resumable). */
  | 'end'
  /** A notification and half an event, then the TCP connection is destroyed. */
  | 'cut'
  /** A priming event (`id`, `retry: 10`), then the stream ends: resumable. */
  | 'prime'
  /** HTTP 202 with no body, as if it were a notification. */
  | 'accept'
  /** A JSON body answering some other id. */
  | 'json-other';

/** What a resume (`GET` with `Last-Event-ID`) gets. */
export type ResumeBehaviour = 405 | 500 | 'answer';

export interface CuttingServer extends Listening {
  mcpUrl: string;
  /** `Last-Event-ID` of every GET, in order (`null` for the standalone stream). */
  gets: Array<string | null>;
  /** JSON-RPC methods POSTed, in order. */
  posts: string[];
}

const SESSION = 'cut-session';

function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': SESSION });
  res.flushHeaders();
}

function event(data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/**
 * Starts the server. `behaviour(method)` decides each request's fate;
 * `resume(lastEventId)` each resume's. Primed streams use event ids
 * `ev-<request id>`; a resume answering replies to that request id.
 */
export async function startCuttingServer(
  behaviour: (method: string) => Behaviour,
  resume: (lastEventId: string) => ResumeBehaviour = () => 405,
): Promise<CuttingServer> {
  const gets: Array<string | null> = [];
  const posts: string[] = [];
  const l = await listenNode((req, res) => {
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    if (req.method === 'GET') {
      const last = (req.headers['last-event-id'] as string | undefined) ?? null;
      gets.push(last);
      if (last === null) return void res.writeHead(405).end();
      const r = resume(last);
      if (r !== 'answer') return void res.writeHead(r).end();
      const id = JSON.parse(last.replace(/^ev-/, '')) as unknown;
      sseHead(res);
      res.end(event({ jsonrpc: '2.0', id, result: { resumed: true } }, `${last}-2`));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id?: string | number;
        method: string;
      };
      posts.push(msg.method);
      if (msg.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: msg.id,
            result: {
              protocolVersion: '2025-06-18',
              capabilities: { tools: {} },
              serverInfo: { name: 'cutting', version: '1' },
            },
          }),
        );
        return;
      }
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method === 'server/discover' && req.headers['mcp-session-id'] === undefined) {
        // What a 2025 server answers a request without a session: the bridge's era probe.
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
          }),
        );
        return;
      }
      const note = {
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: `working on ${msg.id}` },
      };
      switch (behaviour(msg.method)) {
        case 'answer':
          sseHead(res);
          res.end(event({ jsonrpc: '2.0', id: msg.id, result: { ok: true } }));
          return;
        case 'end':
          sseHead(res);
          res.end(event(note));
          return;
        case 'cut':
          sseHead(res);
          res.write(event(note));
          res.write(`data: {"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"resu`, () => res.destroy());
          return;
        case 'prime':
          sseHead(res);
          res.end(`id: ev-${JSON.stringify(msg.id)}\nretry: 10\ndata: \n\n`);
          return;
        case 'accept':
          res.writeHead(202, { 'mcp-session-id': SESSION }).end();
          return;
        case 'json-other':
          res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': SESSION });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: 'someone-else', result: {} }));
          return;
      }
    });
  });
  return { ...l, mcpUrl: `${l.url}/mcp`, gets, posts };
}
