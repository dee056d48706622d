/**
 * A small MCP 2026-07-28 server written by hand as a web `Request` →
 * `Response` handler (no session, no `initialize`), strict the way the spec
 * asks a server to be: the `_meta` envelope (-32602), `MCP-Protocol-Version`,
 * `Mcp-Method` and `Mcp-Name` matching the body (-32020), the revision
 * (-32022). Its tools exercise what a client must do on that wire:
 * `x-mcp-header` arguments, `input_required` rounds (SEP-2322), progress and
 * log notifications on a request's SSE stream, `subscriptions/listen`.
 */
import { listen, type Listening } from '@mcp-gateway/testkit';
import { afterEach } from 'vitest';

const V = '2026-07-28';
const META = 'io.modelcontextprotocol/';

/**
 * What the next `subscriptions/listen` gets: `fail` (503 with -32603), `end` (the stream ends after its
 * acknowledgment), `unauthorized` (401, no challenge), `forbidden` (403 text), `bad-gateway` (502 HTML).
 */
export type ListenPlan = 'fail' | 'end' | 'unauthorized' | 'forbidden' | 'bad-gateway';

export interface SeenRequest {
  method: string;
  id: unknown;
  params: Record<string, unknown>;
  headers: Record<string, string>;
  /** When it arrived (`Date.now()`). */
  at: number;
}

export interface ModernServer extends Listening {
  mcpUrl: string;
  /** Every JSON-RPC request that reached a method (after the envelope and header checks). */
  seen: SeenRequest[];
  /** Changes the revisions the server serves (to test -32022). */
  setSupported(versions: string[]): void;
  /** Send a `notifications/tools/list_changed` to every open `subscriptions/listen` stream. */
  toolsChanged(): void;
  /**
   * From now on `echo` declares `x-mcp-header: "Note"` on its `note` argument
   * (in `tools/list`), and a call with a `note` needs a matching `Mcp-Param-Note`
   * header (else -32020), as a server whose tool changed.
   */
  declareNoteHeader(): void;
  /**
   * What the next `subscriptions/listen` requests get, in order (then an open
   * stream again): see {@link ListenPlan}.
   */
  nextListens(...plans: ListenPlan[]): void;
  /**
   * Tears every subscription down as a server shutting down may: a
   * `notifications/cancelled` naming the `subscriptions/listen` request, then
   * the end of the stream.
   */
  endSubscriptions(): void;
}

type Json = Record<string, unknown>;

const rpcError = (id: unknown, status: number, code: number, message: string, data?: unknown) =>
  Response.json({ jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } }, { status });

const TOOLS = [
  {
    name: 'echo',
    description: 'Returns its arguments and the Mcp-Param headers it got',
    inputSchema: {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        count: { type: 'integer', 'x-mcp-header': 'Count' },
        note: { type: 'string' },
      },
    },
  },
  {
    name: 'bad_headers',
    description: 'Declares x-mcp-header on an object: clients must exclude it',
    inputSchema: { type: 'object', properties: { data: { type: 'object', 'x-mcp-header': 'Data' } } },
  },
  {
    name: 'confirm',
    description: 'Asks the user (elicitation), then answers',
    inputSchema: { type: 'object' },
  },
  { name: 'two_rounds', description: 'Asks for roots, then for a sample', inputSchema: { type: 'object' } },
  {
    name: 'progress',
    description: 'Progress and a log message on its stream',
    inputSchema: { type: 'object' },
  },
  {
    name: 'busy',
    description: 'Sheds load: input_required with only requestState, `rounds` times (forever without it)',
    inputSchema: { type: 'object', properties: { rounds: { type: 'integer' } } },
  },
  {
    name: 'many_inputs',
    description: 'Asks for `count` elicitations in one round',
    inputSchema: { type: 'object', properties: { count: { type: 'integer' } } },
  },
];

const text = (t: string) => ({ resultType: 'complete', content: [{ type: 'text', text: t }] });

/** Checks the envelope and the headers; a Response when the request is refused. */
function refuse(body: Json, headers: Headers, supported: string[]): Response | undefined {
  const id = body.id ?? null;
  const params = (body.params as Json | undefined) ?? {};
  const meta = (params._meta as Json | undefined) ?? {};
  const version = headers.get('mcp-protocol-version');
  // A 2025 client (its initialize has no Mcp-Method header) fails header validation first.
  if (!headers.get('mcp-method')) return rpcError(id, 400, -32020, 'missing Mcp-Method header');
  if (meta[`${META}protocolVersion`] === undefined || meta[`${META}clientCapabilities`] === undefined)
    return rpcError(id, 400, -32602, 'missing _meta envelope');
  if (version !== meta[`${META}protocolVersion`])
    return rpcError(id, 400, -32020, 'MCP-Protocol-Version mismatch');
  if (headers.get('mcp-method') !== body.method) return rpcError(id, 400, -32020, 'Mcp-Method mismatch');
  const named = body.method === 'resources/read' ? params.uri : params.name;
  if (
    ['tools/call', 'prompts/get', 'resources/read'].includes(String(body.method)) &&
    headers.get('mcp-name') !== named
  )
    return rpcError(id, 400, -32020, 'Mcp-Name mismatch');
  if (!version || !supported.includes(version))
    return rpcError(id, 400, -32022, 'Unsupported protocol version', { supported, requested: version });
  return undefined;
}

function sse(messages: Json[]): Response {
  const body = messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join('');
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

/** The tools as `tools/list` lists them now. */
function toolsNow(noteHeader: boolean) {
  if (!noteHeader) return TOOLS;
  return TOOLS.map((t) =>
    t.name === 'echo'
      ? {
          ...t,
          inputSchema: {
            ...t.inputSchema,
            properties: {
              ...(t.inputSchema as { properties?: Json }).properties,
              note: { type: 'string', 'x-mcp-header': 'Note' },
            },
          },
        }
      : t,
  );
}

function callTool(id: unknown, params: Json, headers: Headers, noteHeader: boolean): Response {
  const meta = (params._meta as Json | undefined) ?? {};
  const inputs = params.inputResponses as Json | undefined;
  const caps = (meta[`${META}clientCapabilities`] as Json | undefined) ?? {};
  const ok = (result: Json) => Response.json({ jsonrpc: '2.0', id, result });
  switch (params.name) {
    case 'echo': {
      const note = (params.arguments as Json | undefined)?.note;
      if (noteHeader && typeof note === 'string' && headers.get('mcp-param-note') !== note)
        return rpcError(id, 400, -32020, 'Header mismatch: Mcp-Param-Note missing or not matching');
      const mirrored: Json = {};
      headers.forEach((v, k) => {
        if (k.startsWith('mcp-param-')) mirrored[k] = v;
      });
      return ok(text(JSON.stringify({ arguments: params.arguments, headers: mirrored })));
    }
    case 'confirm': {
      if (!('elicitation' in caps))
        return rpcError(id, 400, -32021, 'needs elicitation', { requiredCapabilities: { elicitation: {} } });
      const answer = inputs?.ok as { action?: string; content?: Json } | undefined;
      if (!answer || params.requestState !== 'confirm-1')
        return ok({
          resultType: 'input_required',
          inputRequests: {
            ok: {
              method: 'elicitation/create',
              params: {
                message: 'Go on?',
                requestedSchema: { type: 'object', properties: { yes: { type: 'boolean' } } },
              },
            },
          },
          requestState: 'confirm-1',
        });
      return ok(text(`confirmed: ${answer.action} ${JSON.stringify(answer.content)}`));
    }
    case 'two_rounds': {
      if (params.requestState === undefined)
        return ok({
          resultType: 'input_required',
          inputRequests: { roots: { method: 'roots/list', params: {} } },
          requestState: 'round-2',
        });
      if (params.requestState === 'round-2') {
        const roots = (inputs?.roots as { roots?: Array<{ uri: string }> } | undefined)?.roots ?? [];
        return ok({
          resultType: 'input_required',
          inputRequests: {
            sample: {
              method: 'sampling/createMessage',
              params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 },
            },
          },
          requestState: `round-3:${roots.map((r) => r.uri).join(',')}`,
        });
      }
      const sample = (inputs?.sample as { content?: { text?: string } } | undefined)?.content?.text;
      const state = typeof params.requestState === 'string' ? params.requestState : '';
      return ok(text(`${state} sample=${sample}`));
    }
    case 'progress': {
      const token = (params._meta as Json | undefined)?.progressToken;
      const level = meta[`${META}logLevel`];
      const messages: Json[] = [];
      if (token !== undefined)
        messages.push({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1, total: 1 },
        });
      if (level !== undefined)
        messages.push({
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'info', data: 'working' },
        });
      messages.push({ jsonrpc: '2.0', id, result: text(`progress done (log level ${String(level)})`) });
      return sse(messages);
    }
    case 'busy': {
      const wanted = (params.arguments as { rounds?: number } | undefined)?.rounds;
      const done = typeof params.requestState === 'string' ? Number(params.requestState.slice(5)) : 0;
      if (wanted !== undefined && done >= wanted) return ok(text(`served after ${done} retries`));
      return ok({ resultType: 'input_required', requestState: `busy-${done + 1}` });
    }
    case 'many_inputs': {
      const count = (params.arguments as { count?: number } | undefined)?.count ?? 1;
      if (inputs) return ok(text(`got ${Object.keys(inputs).length} answers`));
      const inputRequests: Json = {};
      for (let i = 0; i < count; i++)
        inputRequests[`q${i}`] = {
          method: 'elicitation/create',
          params: { message: `question ${i}`, requestedSchema: { type: 'object', properties: {} } },
        };
      return ok({ resultType: 'input_required', inputRequests });
    }
    default:
      return rpcError(id, 200, -32602, `unknown tool ${String(params.name)}`);
  }
}

/** Starts the server on 127.0.0.1 (endpoint `/mcp`). */
export async function startModernServer(): Promise<ModernServer> {
  const seen: SeenRequest[] = [];
  /** Open `subscriptions/listen` streams, with their request ids. */
  const listeners = new Map<ReadableStreamDefaultController<Uint8Array>, unknown>();
  const listenPlans: ListenPlan[] = [];
  const enc = new TextEncoder();
  const state = { supported: [V], noteHeader: false };
  const handler = async (req: Request): Promise<Response> => {
    if (new URL(req.url).pathname !== '/mcp') return new Response('not found', { status: 404 });
    if (req.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const body = (await req.json()) as Json;
    const refused = refuse(body, req.headers, state.supported);
    if (refused) return refused;
    const params = (body.params as Json | undefined) ?? {};
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    seen.push({ method: String(body.method), id: body.id, params, headers, at: Date.now() });
    const ok = (result: Json) =>
      Response.json({ jsonrpc: '2.0', id: body.id, result: { resultType: 'complete', ...result } });
    switch (body.method) {
      case 'server/discover':
        return ok({
          supportedVersions: state.supported,
          capabilities: { tools: { listChanged: true }, logging: {} },
          instructions: 'Use echo to test headers.',
          ttlMs: 0,
          cacheScope: 'public',
          _meta: { [`${META}serverInfo`]: { name: 'modern-test-server', version: '2.0.0' } },
        });
      case 'tools/list':
        return ok({ tools: toolsNow(state.noteHeader), ttlMs: 0, cacheScope: 'public' });
      case 'tools/call':
        return callTool(body.id, params, req.headers, state.noteHeader);
      case 'resources/read': {
        const uri = String(params.uri);
        if (!uri.startsWith('file:///')) return rpcError(body.id, 200, -32602, 'Invalid params: a file URI');
        if (uri === 'file:///readme') return ok({ contents: [{ uri, mimeType: 'text/plain', text: 'hi' }] });
        // 2026-07-28 server/resources "Error Handling": not found is -32602.
        return rpcError(body.id, 200, -32602, 'Resource not found', { uri });
      }
      case 'subscriptions/listen': {
        const plan = listenPlans.shift();
        if (plan === 'fail') return rpcError(body.id, 503, -32603, 'restarting');
        if (plan === 'unauthorized') return new Response('no', { status: 401 });
        if (plan === 'forbidden') return new Response('forbidden', { status: 403 });
        if (plan === 'bad-gateway')
          return new Response('<h1>502</h1>', { status: 502, headers: { 'content-type': 'text/html' } });
        let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            mine = c;
            const ack = {
              jsonrpc: '2.0',
              method: 'notifications/subscriptions/acknowledged',
              params: { _meta: { [`${META}subscriptionId`]: body.id }, notifications: params.notifications },
            };
            c.enqueue(enc.encode(`data: ${JSON.stringify(ack)}\n\n`));
            if (plan === 'end') c.close();
            else listeners.set(c, body.id);
          },
          cancel() {
            for (const c of listeners.keys()) if (c.desiredSize === null) listeners.delete(c);
          },
        });
        req.signal.addEventListener('abort', () => mine && listeners.delete(mine));
        return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
      }
      default:
        return rpcError(body.id, 404, -32601, `Method not found: ${String(body.method)}`);
    }
  };
  const l = await listen(handler);
  return Object.assign(l, {
    mcpUrl: `${l.url}/mcp`,
    seen,
    setSupported(versions: string[]) {
      state.supported = versions;
    },
    declareNoteHeader() {
      state.noteHeader = true;
    },
    toolsChanged() {
      const n = {
        jsonrpc: '2.0',
        method: 'notifications/tools/list_changed',
        params: { _meta: { [`${META}subscriptionId`]: 1 } },
      };
      for (const c of listeners.keys()) {
        try {
          c.enqueue(enc.encode(`data: ${JSON.stringify(n)}\n\n`));
        } catch {
          listeners.delete(c);
        }
      }
    },
    nextListens(...plans: ListenPlan[]) {
      listenPlans.push(...plans);
    },
    endSubscriptions() {
      for (const [c, id] of listeners) {
        const n = {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'shutting down', _meta: { [`${META}subscriptionId`]: id } },
        };
        try {
          c.enqueue(enc.encode(`data: ${JSON.stringify(n)}\n\n`));
          c.close();
        } catch {
          // already gone
        }
      }
      listeners.clear();
    },
  });
}

/**
 * For a test file at module level: `closers` run (and are emptied) after each test, and
 * `modern()` starts a {@link startModernServer} that is closed with them.
 */
export function modernServersPerTest(): {
  closers: Array<() => Promise<unknown>>;
  modern: () => Promise<ModernServer>;
} {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  const modern = async () => {
    const s = await startModernServer();
    closers.push(() => s.close());
    return s;
  };
  return { closers, modern };
}
