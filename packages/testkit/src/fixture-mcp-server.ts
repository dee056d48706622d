/**
 * A stdio MCP server for bridge tests, built with the MCP SDK's `McpServer`.
 * Run it as a child process: `node dist/fixture-mcp-server.js`.
 *
 * Tools: `echo`, `add`, `slow` (sleeps, reports progress), `crash` (exits),
 * `stderr` (writes a line to stderr), `record` (appends to `$FIXTURE_RECORD_FILE`), `sample` (sampling round trip),
 * `elicit` (elicitation round trip), `elicit-two` (two elicitations at once), `url-elicit` (fails with
 * 2025-11-25's URL elicitation required, `-32042`, until the file `done` exists), `change-list` (adds a tool or prompt: list_changed), `notify` (logging notification), `env` (selected env vars), `pid`,
 * `grandchild` (spawns a long-lived process in the same group), `big` (a
 * long answer), `garbage` (writes a non-JSON line to stdout). `echo` and `add` are annotated
 * `readOnlyHint: true`.
 * `touch` (writes `text` to `$FIXTURE_WATCH_FILE`).
 * `route` (echoes its arguments as JSON): its `region`, `shard`, `dry` and `target.zone` arguments
 * are marked `x-mcp-header` (`Region`, `Shard`, `Dry`, `Zone`: SEP-2243 `Mcp-Param-*` headers).
 * Resource template `fixture://missing/{id}`: reading it fails with 2025's resource-not-found `-32002`.
 * `rpc-error` answers with a JSON-RPC error of the given `code` (answered before `McpServer`, which
 * would turn a tool's error into an `isError` result).
 * Environment: `FIXTURE_TOOLS_LIST` changes how `tools/list` is answered (see {@link listingMode});
 * `FIXTURE_NO_TOOLS_CAPABILITY=1` leaves `tools` out of the `initialize` capabilities (the tools
 * still answer).
 * Resource `fixture://greeting`; resource `fixture://watched` (the text of `$FIXTURE_WATCH_FILE`),
 * which `resources/subscribe` watches: every child subscribed to it sends
 * `notifications/resources/updated` when the file changes (whichever child's `touch` wrote it).
 * Prompt `greet`. Completions (`completion/complete`): the prompt
 * `pick`'s `color` argument (red, green, blue) and the resource template `fixture://items/{id}`'s
 * `id` (alpha, beta, gamma), both by prefix.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, watch, writeFileSync, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  McpError,
  UrlElicitationRequiredError,
  type JSONRPCMessage,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

const server = new McpServer(
  { name: 'fixture-mcp-server', version: '1.0.0' },
  { capabilities: { logging: {} } },
);

server.registerTool(
  'echo',
  {
    description: 'Returns its input',
    inputSchema: { text: z.string() },
    annotations: { readOnlyHint: true },
  },
  ({ text: t }) => text(t),
);

server.registerTool(
  'meta',
  { description: "Returns its request's params._meta as JSON (trace-context propagation tests)" },
  (extra) => text(JSON.stringify(extra._meta ?? {})),
);

server.registerTool(
  'add',
  {
    description: 'Adds two numbers',
    inputSchema: { a: z.number(), b: z.number() },
    annotations: { readOnlyHint: true },
  },
  ({ a, b }) => text(String(a + b)),
);

server.registerTool(
  'record',
  {
    description:
      'Appends `text` and a newline to the file named by FIXTURE_RECORD_FILE (proof a call arrived); `path` is a label for policies',
    inputSchema: { text: z.string(), path: z.string().optional() },
    annotations: { readOnlyHint: false, destructiveHint: false },
  },
  ({ text: t }) => {
    const file = process.env.FIXTURE_RECORD_FILE;
    if (!file) return text('FIXTURE_RECORD_FILE is not set');
    appendFileSync(file, `${t}\n`);
    return text('recorded');
  },
);

server.registerTool(
  'slow',
  {
    description: 'Sleeps `ms` milliseconds in `steps` steps, reporting progress as each starts',
    inputSchema: { ms: z.number().int().min(0), steps: z.number().int().min(1).optional() },
  },
  async ({ ms, steps = 1 }, extra) => {
    const token = extra._meta?.progressToken;
    // Cancellation (notifications/cancelled) shows up on stderr, so a test can see it arrived. It
    // may have come before this handler ran (the SDK validates the arguments first): then at once.
    const cancelled = () => process.stderr.write(`slow cancelled: ${String(extra.signal.reason)}\n`);
    process.stderr.write('slow started\n');
    if (extra.signal.aborted) cancelled();
    else extra.signal.addEventListener('abort', cancelled, { once: true });
    // Progress is reported as each step starts, so the last notification is
    // one step ahead of the result: the SDK client drops progress that it reads
    // in the same chunk as the response it belongs to.
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}` },
        });
      }
      await new Promise((r) => setTimeout(r, ms / steps));
      if (extra.signal.aborted) return text('cancelled');
    }
    return text(`slept ${ms}ms`);
  },
);

server.registerTool(
  'crash',
  { description: 'Exits the process with `code`', inputSchema: { code: z.number().int().optional() } },
  ({ code = 3 }) => {
    process.exit(code);
  },
);

server.registerTool(
  'stderr',
  { description: 'Writes `text` to stderr', inputSchema: { text: z.string() } },
  ({ text: t }) => {
    process.stderr.write(t + '\n');
    return text('written');
  },
);

server.registerTool(
  'sample',
  { description: 'Asks the client to sample `prompt`', inputSchema: { prompt: z.string() } },
  async ({ prompt }) => {
    const result = await server.server.createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
      maxTokens: 100,
    });
    const content = Array.isArray(result.content) ? result.content[0] : result.content;
    return text(content?.type === 'text' ? content.text : JSON.stringify(result.content));
  },
);

server.registerTool(
  'elicit',
  {
    description: 'Asks the client (elicitation) for a `name`, then greets it',
    inputSchema: { message: z.string() },
  },
  async ({ message }) => {
    const result = await server.server.elicitInput({
      message,
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    });
    const name = result.action === 'accept' ? String(result.content?.name ?? '') : `(${result.action})`;
    return text(`hello ${name}`);
  },
);

server.registerTool(
  'elicit-two',
  { description: 'Asks the client (elicitation) for a first and a last name at once, then greets them' },
  async () => {
    const ask = async (message: string) => {
      const r = await server.server.elicitInput({
        message,
        requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      });
      return r.action === 'accept' ? String(r.content?.name ?? '') : `(${r.action})`;
    };
    const [first, last] = await Promise.all([ask('First name?'), ask('Last name?')]);
    return text(`hello ${first} ${last}`);
  },
);

server.registerTool(
  'url-elicit',
  {
    description:
      'Fails with -32042 (2025-11-25 URL elicitation required) asking to open `url`, until the file `done` exists; then answers "done"',
    inputSchema: { url: z.string(), done: z.string() },
  },
  ({ url, done }) => {
    if (existsSync(done)) return text('done');
    const elicitation = { mode: 'url' as const, elicitationId: 'fixture-1', url, message: 'Open the page' };
    throw new UrlElicitationRequiredError([elicitation], 'the page must be opened first');
  },
);

let added = 0;
server.registerTool(
  'change-list',
  {
    description:
      'Adds a tool, a prompt, or a tool whose `key` argument is an `x-mcp-header` (`Key`), so the server sends the matching list_changed notification',
    inputSchema: { kind: z.enum(['tool', 'prompt', 'header-tool']) },
  },
  ({ kind }) => {
    const name = `added-${kind}-${++added}`;
    if (kind === 'tool') server.registerTool(name, { description: 'Added at run time' }, () => text(name));
    else if (kind === 'header-tool') {
      const inputSchema = { key: z.string().meta({ 'x-mcp-header': 'Key' }) };
      server.registerTool(name, { description: 'Added at run time', inputSchema }, () => text(name));
    } else server.registerPrompt(name, { description: 'Added at run time' }, () => ({ messages: [] }));
    return text(name);
  },
);

server.registerTool(
  'notify',
  {
    description: 'Sends a logging message notification',
    inputSchema: { message: z.string(), level: z.enum(['debug', 'info', 'warning', 'error']).optional() },
  },
  async ({ message, level = 'info' }, extra) => {
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level, logger: 'fixture', data: message },
    });
    return text('notified');
  },
);

server.registerTool(
  'env',
  { description: 'Returns the named environment variables', inputSchema: { names: z.array(z.string()) } },
  ({ names }) => text(JSON.stringify(Object.fromEntries(names.map((n) => [n, process.env[n] ?? null])))),
);

server.registerTool('pid', { description: 'Returns the process id' }, () => text(String(process.pid)));

server.registerTool(
  'grandchild',
  { description: 'Spawns a long-lived process in this process group and returns its pid' },
  () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    return text(String(child.pid));
  },
);

server.registerTool(
  'big',
  { description: 'Returns a text of `bytes` characters', inputSchema: { bytes: z.number().int().min(0) } },
  ({ bytes }) => text('x'.repeat(bytes)),
);

server.registerTool('garbage', { description: 'Writes a non-JSON line to stdout, then answers' }, () => {
  process.stdout.write('this is not json\n');
  return text('ok');
});

server.registerResource(
  'greeting',
  'fixture://greeting',
  { description: 'A fixed greeting', mimeType: 'text/plain' },
  (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hello from the fixture' }] }),
);

server.registerPrompt(
  'greet',
  { description: 'Greets someone', argsSchema: { name: z.string() } },
  ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}` } }] }),
);

const byPrefix = (values: string[]) => (value: string) => values.filter((v) => v.startsWith(value));

server.registerPrompt(
  'pick',
  {
    description: 'Picks a colour (its argument completes)',
    argsSchema: { color: completable(z.string(), byPrefix(['red', 'green', 'blue'])) },
  },
  ({ color }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Picked ${color}` } }] }),
);

server.registerResource(
  'item',
  new ResourceTemplate('fixture://items/{id}', {
    list: undefined,
    complete: { id: byPrefix(['alpha', 'beta', 'gamma']) },
  }),
  { description: 'An item by id', mimeType: 'text/plain' },
  (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `item ${String(id)}` }] }),
);

server.registerTool(
  'route',
  {
    description: 'Returns its arguments as JSON; four of them are mirrored into Mcp-Param-* headers',
    inputSchema: {
      region: z.string().meta({ 'x-mcp-header': 'Region' }),
      shard: z.number().int().optional().meta({ 'x-mcp-header': 'Shard' }),
      dry: z.boolean().optional().meta({ 'x-mcp-header': 'Dry' }),
      target: z.object({ zone: z.string().meta({ 'x-mcp-header': 'Zone' }) }).optional(),
      query: z.string().optional(),
    },
  },
  (args) => text(JSON.stringify(args)),
);

server.registerResource(
  'missing',
  new ResourceTemplate('fixture://missing/{id}', { list: undefined }),
  { description: 'Never found: reading it fails with -32002 (2025 resource not found)' },
  (uri) => {
    throw new McpError(-32002, 'Resource not found', { uri: uri.href });
  },
);

const WATCHED = 'fixture://watched';
const watchFile = process.env.FIXTURE_WATCH_FILE;

server.registerTool(
  'touch',
  {
    description: 'Writes `text` to FIXTURE_WATCH_FILE (fixture://watched changes)',
    inputSchema: { text: z.string() },
  },
  ({ text: t }) => {
    if (!watchFile) return text('FIXTURE_WATCH_FILE is not set');
    writeFileSync(watchFile, t);
    return text('touched');
  },
);

server.registerResource(
  'watched',
  WATCHED,
  { description: 'The text of FIXTURE_WATCH_FILE', mimeType: 'text/plain' },
  (uri) => ({
    contents: [
      {
        uri: uri.href,
        mimeType: 'text/plain',
        text: watchFile && existsSync(watchFile) ? readFileSync(watchFile, 'utf8') : '',
      },
    ],
  }),
);

/** URIs this child's client subscribed to, and the file watch while `fixture://watched` is one. */
const subscribed = new Set<string>();
let watcher: FSWatcher | undefined;
server.server.registerCapabilities({ resources: { subscribe: true } });
server.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
  subscribed.add(params.uri);
  if (params.uri === WATCHED && watchFile && !watcher) {
    if (!existsSync(watchFile)) writeFileSync(watchFile, '');
    watcher = watch(watchFile, () => {
      if (subscribed.has(WATCHED)) void server.server.sendResourceUpdated({ uri: WATCHED });
    });
  }
  process.stderr.write(`subscribed ${params.uri}\n`);
  return {};
});
server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
  subscribed.delete(params.uri);
  if (!subscribed.has(WATCHED)) {
    watcher?.close();
    watcher = undefined;
  }
  process.stderr.write(`unsubscribed ${params.uri}\n`);
  return {};
});

server.registerTool(
  'rpc-error',
  {
    description:
      'Fails with a JSON-RPC error of code `code` (a server-defined code, as some 2025 servers send)',
    inputSchema: { code: z.number().int() },
  },
  // Never reached: answered by the transport below.
  () => text('unreachable'),
);

/**
 * `FIXTURE_TOOLS_LIST`: `fail` answers every `tools/list` with a JSON-RPC error (`-32603`),
 * `fail:<n>` the first `n` of them; `hold:<path>` answers none until the file `<path>` exists
 * (then all held ones at once); `exit` exits (code 4) instead of answering. Every `tools/list`
 * request writes `tools/list requested` to stderr, so a test can count them.
 */
function listingMode(): { failFirst: number; holdUntil: string | undefined; exit: boolean } {
  const mode = process.env.FIXTURE_TOOLS_LIST ?? '';
  const none = { failFirst: 0, holdUntil: undefined, exit: false };
  if (mode === 'fail') return { ...none, failFirst: Infinity };
  if (mode.startsWith('fail:')) return { ...none, failFirst: Number(mode.slice(5)) };
  if (mode.startsWith('hold:')) return { ...none, holdUntil: mode.slice(5) };
  return { ...none, exit: mode === 'exit' };
}

const transport = new StdioServerTransport();
await server.connect(transport);
const deliver = transport.onmessage!;
if (process.env.FIXTURE_NO_TOOLS_CAPABILITY === '1') {
  // The initialize answer leaves `tools` out of the capabilities.
  const send = transport.send.bind(transport);
  transport.send = (msg) => {
    const result = 'result' in msg ? (msg.result as { capabilities?: Record<string, unknown> }) : undefined;
    if (result?.capabilities && 'protocolVersion' in result) {
      const { tools: _tools, ...capabilities } = result.capabilities;
      return send({ ...msg, result: { ...result, capabilities } });
    }
    return send(msg);
  };
}
const listing = listingMode();
let lists = 0;
const held: (() => void)[] = [];
if (listing.holdUntil !== undefined) {
  const gate = listing.holdUntil;
  const gateWatch = watch(dirname(gate), () => {
    if (!existsSync(gate)) return;
    gateWatch.close();
    for (const go of held.splice(0)) go();
  });
  gateWatch.unref();
}
transport.onmessage = (msg: JSONRPCMessage) => {
  if ('method' in msg && 'id' in msg) {
    const fail = (code: number, message: string) =>
      void transport.send({ jsonrpc: '2.0', id: msg.id, error: { code, message } });
    if (msg.method === 'tools/list') {
      process.stderr.write('tools/list requested\n');
      if (listing.exit) process.exit(4);
      if (++lists <= listing.failFirst) return fail(-32603, 'tools/list failed (FIXTURE_TOOLS_LIST)');
      const gate = listing.holdUntil;
      if (gate !== undefined && !existsSync(gate)) return void held.push(() => deliver(msg));
    }
    const params = msg.params as { name?: unknown; arguments?: { code?: unknown } } | undefined;
    if (msg.method === 'tools/call' && params?.name === 'rpc-error') {
      return fail(Number(params.arguments?.code), 'rpc-error: the tool failed with a code of its own');
    }
  }
  deliver(msg);
};
