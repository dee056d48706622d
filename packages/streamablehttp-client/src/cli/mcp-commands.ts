/** The one-shot MCP commands: `tools`, `resources`, `prompts`, `raw`, and `--command`. */
import { EXIT_CODES, UsageError } from '../errors.js';
import type { McpConnection } from '../connection.js';
import { withClient } from './connection.js';
import type { Context } from './context.js';
import { contentText } from './output.js';
import { looseValue, parseArgsJson, parsePairs, type PropertyTypes } from './values.js';

async function toolArguments(
  client: McpConnection,
  name: string,
  spec: { json?: Record<string, unknown>; pairs?: string[]; single?: string },
) {
  let args: Record<string, unknown> = { ...(spec.json ?? {}) };
  if (spec.pairs?.length || spec.single !== undefined) {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === name);
    if (!tool) throw new UsageError(`the server has no tool named ${JSON.stringify(name)} (see: tools list)`);
    const props = (tool.inputSchema.properties ?? {}) as PropertyTypes;
    if (spec.pairs?.length) args = { ...args, ...parsePairs(spec.pairs, props) };
    if (spec.single !== undefined) {
      const required = tool.inputSchema.required ?? [];
      const key = required[0] ?? Object.keys(props)[0];
      if (!key) throw new UsageError(`tool ${name} takes no arguments`);
      const isString = props[key]?.type === 'string';
      args[key] = isString ? spec.single : looseValue(spec.single);
    }
  }
  return args;
}

/** Calls tool `name`; `key=value` pairs and a single value follow its input schema. */
export async function callTool(
  ctx: Context,
  name: string,
  spec: Parameters<typeof toolArguments>[2],
): Promise<number> {
  return withClient(ctx, async (client) => {
    const args = await toolArguments(client, name, spec);
    const result = (await client.callTool({ name, arguments: args })) as {
      content?: unknown;
      structuredContent?: unknown;
      isError?: unknown;
    };
    ctx.out(contentText(result), result);
    return result.isError ? EXIT_CODES.server : EXIT_CODES.ok;
  });
}

/** `raw`: one JSON-RPC request (or notification) as given; the whole response printed. */
export async function rawRequest(ctx: Context, text: string): Promise<number> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`raw: not JSON: ${(err as Error).message}`);
  }
  if (
    !message ||
    typeof message !== 'object' ||
    Array.isArray(message) ||
    typeof (message as { method?: unknown }).method !== 'string'
  ) {
    throw new UsageError('raw: expected one JSON-RPC request object with a "method"');
  }
  const m: Record<string, unknown> = { jsonrpc: '2.0', id: 'raw-1', ...(message as Record<string, unknown>) };
  if (m.method === 'initialize') throw new UsageError('raw: initialize is sent for you');
  return withClient(ctx, async (client) => {
    // Without an id, a `notifications/…` method is a notification; anything else is a request.
    if (!('id' in message) && String(m.method).startsWith('notifications/'))
      delete (m as { id?: unknown }).id;
    const response = await client.raw(m);
    if (!response) {
      ctx.out('sent', { sent: true });
      return EXIT_CODES.ok;
    }
    ctx.out(JSON.stringify(response, null, 2), response);
    return 'error' in response ? EXIT_CODES.server : EXIT_CODES.ok;
  });
}

/** `tools list` / `tools call NAME [--args JSON] [key=value…]`. */
async function toolsCommand(ctx: Context, sub: string | undefined, rest: string[]): Promise<number> {
  const f = ctx.flags;
  if (sub === 'list') {
    return withClient(ctx, async (client) => {
      const { tools } = await client.listTools();
      ctx.out(
        tools.map((t) => `${t.name}${t.description ? `  ${t.description.split('\n')[0]}` : ''}`).join('\n'),
        tools,
      );
      return EXIT_CODES.ok;
    });
  }
  if (sub === 'call') {
    const [name, ...pairs] = rest;
    if (!name) throw new UsageError('tools call needs a tool name');
    return callTool(ctx, name, { ...(f.args ? { json: parseArgsJson(f.args) } : {}), pairs });
  }
  throw new UsageError('tools: expected list or call NAME');
}

/** `resources list` / `resources read URI`. */
async function resourcesCommand(ctx: Context, sub: string | undefined, rest: string[]): Promise<number> {
  if (sub === 'list') {
    return withClient(ctx, async (client) => {
      const { resources } = await client.listResources();
      ctx.out(resources.map((r) => `${r.uri}${r.name ? `  ${r.name}` : ''}`).join('\n'), resources);
      return EXIT_CODES.ok;
    });
  }
  if (sub === 'read') {
    const uri = rest[0];
    if (!uri) throw new UsageError('resources read needs a URI');
    return withClient(ctx, async (client) => {
      const result = await client.readResource({ uri });
      const text = result.contents
        .map((c) => ('text' in c && typeof c.text === 'string' ? c.text : `[blob ${c.mimeType ?? ''}]`))
        .join('\n');
      ctx.out(text, result);
      return EXIT_CODES.ok;
    });
  }
  throw new UsageError('resources: expected list or read URI');
}

/** `prompts list` / `prompts get NAME [key=value…]`. */
async function promptsCommand(ctx: Context, sub: string | undefined, rest: string[]): Promise<number> {
  if (sub === 'list') {
    return withClient(ctx, async (client) => {
      const { prompts } = await client.listPrompts();
      ctx.out(
        prompts.map((p) => `${p.name}${p.description ? `  ${p.description}` : ''}`).join('\n'),
        prompts,
      );
      return EXIT_CODES.ok;
    });
  }
  if (sub === 'get') {
    const [name, ...pairs] = rest;
    if (!name) throw new UsageError('prompts get needs a prompt name');
    const args = Object.fromEntries(
      Object.entries(parsePairs(pairs)).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    return withClient(ctx, async (client) => {
      const result = await client.getPrompt({ name, arguments: args });
      const text = result.messages
        .map((m) => `${m.role}: ${m.content.type === 'text' ? m.content.text : `[${m.content.type}]`}`)
        .join('\n');
      ctx.out(text, result);
      return EXIT_CODES.ok;
    });
  }
  throw new UsageError('prompts: expected list or get NAME');
}

/** `tools`, `resources`, `prompts` and `raw`, with their subcommand and arguments. */
export async function mcpCommand(
  ctx: Context,
  cmd: 'tools' | 'resources' | 'prompts' | 'raw',
  sub: string | undefined,
  rest: string[],
): Promise<number> {
  switch (cmd) {
    case 'tools':
      return toolsCommand(ctx, sub, rest);
    case 'resources':
      return resourcesCommand(ctx, sub, rest);
    case 'prompts':
      return promptsCommand(ctx, sub, rest);
    case 'raw': {
      if (!sub) throw new UsageError('raw needs a JSON-RPC request, e.g. raw \'{"method":"tools/list"}\'');
      return rawRequest(ctx, sub);
    }
  }
}
