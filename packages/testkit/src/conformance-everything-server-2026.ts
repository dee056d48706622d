/**
 * The conformance everything-server (`conformance-everything.ts`, from the MCP conformance suite
 * v0.1.16) plus the diagnostic tools and prompt that the 0.2.0 suite's `--requirements 2026-07-28`
 * server scenarios call (`server-stateless`, `input-required-result-*`). Still an ordinary 2025
 * stdio server (SDK 1.x `McpServer` over `StdioServerTransport`, protocol 2025-11-25): its tools
 * make ordinary `elicitation/create`, `sampling/createMessage` and `roots/list` requests to the
 * client, and whatever serves it on the 2026 wire (our bridge) turns those into `input_required`
 * results. Run it as a child process: `node dist/conformance-everything-server-2026.js`.
 *
 * The suite expects fixed `inputRequests` keys (`user_name`, `capital_question`, …). A 2025 server
 * has no such keys; these tools name them in the request's `_meta` under
 * `mcp-streamablehttp-proxy/inputKey`, which the bridge uses as the key (and removes).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  type ElicitRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { createEverythingServer } from './conformance-everything.js';
import { text } from './conformance-everything-shared.js';

/** The bridge's `_meta` key naming the `inputRequests` key of a server→client request. */
const INPUT_KEY = 'mcp-streamablehttp-proxy/inputKey';

const mcpServer = createEverythingServer();
const server = mcpServer.server;
const named = (key: string) => ({ _meta: { [INPUT_KEY]: key } });

/** Elicits a form of one field; the accepted content. */
async function ask(key: string, message: string, field: string, type: 'string' | 'boolean') {
  const params: ElicitRequest['params'] = {
    message,
    requestedSchema: {
      type: 'object',
      properties: { [field]: type === 'string' ? { type: 'string' } : { type: 'boolean' } },
      required: [field],
    },
    ...named(key),
  };
  const result = await server.request({ method: 'elicitation/create', params }, ElicitResultSchema);
  return result.content ?? {};
}

async function sample(key: string, prompt: string, maxTokens: number): Promise<string> {
  const result = await server.request(
    {
      method: 'sampling/createMessage',
      params: {
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens,
        ...named(key),
      },
    },
    CreateMessageResultSchema,
  );
  return result.content.type === 'text' ? result.content.text : '';
}

async function roots(key: string): Promise<string[]> {
  const result = await server.request({ method: 'roots/list', params: named(key) }, ListRootsResultSchema);
  return result.roots.map((r) => r.uri);
}

/** Registers a tool without arguments. */
function tool(
  name: string,
  description: string,
  run: () => Promise<ReturnType<typeof text>> | ReturnType<typeof text>,
) {
  mcpServer.registerTool(name, { description, inputSchema: {} }, run);
}

registerServerStatelessTools(mcpServer);

tool('test_input_required_result_elicitation', 'Asks the client for a name (elicitation)', async () => {
  const { name } = await ask('user_name', 'What is your name?', 'name', 'string');
  return text(`Hello, ${String(name)}!`);
});

tool('test_input_required_result_sampling', 'Asks the client to sample an answer', async () =>
  text(`LLM response: ${await sample('capital_question', 'What is the capital of France?', 100)}`),
);

tool('test_input_required_result_list_roots', 'Asks the client for its roots', async () =>
  text(`Client roots: ${(await roots('client_roots')).join(', ')}`),
);

tool('test_input_required_result_request_state', 'Asks for a confirmation', async () => {
  const { ok } = await ask('confirm', 'Please confirm', 'ok', 'boolean');
  return text(`state-ok: confirmed=${String(ok)}`);
});

tool('test_input_required_result_tampered_state', 'Asks for a confirmation (state integrity)', async () => {
  const { ok } = await ask('confirm', 'Please confirm', 'ok', 'boolean');
  return text(`confirmed=${String(ok)}`);
});

tool(
  'test_input_required_result_multiple_inputs',
  'Asks for a name, a greeting and roots at once',
  async () => {
    const [who, greeting, list] = await Promise.all([
      ask('user_name', 'What is your name?', 'name', 'string'),
      sample('greeting', 'Generate a greeting', 50),
      roots('client_roots'),
    ]);
    return text(`${greeting} ${String(who.name)} (roots: ${list.join(', ')})`);
  },
);

tool('test_input_required_result_multi_round', 'Asks two questions, one after the other', async () => {
  const { name } = await ask('step1', 'Step 1: What is your name?', 'name', 'string');
  const { color } = await ask('step2', 'Step 2: What is your favorite color?', 'color', 'string');
  return text(`${String(name)} likes ${String(color)}`);
});

// Asks for sampling and elicitation at once and uses what the client gives: a client that lacks
// one refuses it (behind the bridge: the capability its 2026 request did not declare).
tool(
  'test_input_required_result_capabilities',
  'Asks for sampling and elicitation; uses what it gets',
  async () => {
    const [sampled, elicited] = await Promise.allSettled([
      sample('sampled', 'Say hello', 20),
      ask('elicited', 'Say hello', 'greeting', 'string'),
    ]);
    const answers = [
      ...(sampled.status === 'fulfilled' ? [`sampled: ${sampled.value}`] : []),
      ...(elicited.status === 'fulfilled' ? [`elicited: ${String(elicited.value.greeting)}`] : []),
    ];
    return text(answers.length > 0 ? answers.join('; ') : 'The client gave neither sampling nor elicitation');
  },
);

mcpServer.registerPrompt(
  'test_input_required_result_prompt',
  { title: 'Prompt needing input', description: 'Asks the client for context (elicitation)' },
  async () => {
    const { context } = await ask('user_context', 'What context should the prompt use?', 'context', 'string');
    return {
      messages: [
        { role: 'user' as const, content: { type: 'text' as const, text: `Context: ${String(context)}` } },
      ],
    };
  },
);

/** The diagnostic tools of `server-stateless` (SEP-2575). */
function registerServerStatelessTools(s: McpServer): void {
  // Needs sampling: fails when the client refuses it (behind the bridge: -32021 when undeclared).
  tool('test_missing_capability', 'Needs the client to sample (the sampling capability)', async () =>
    text(`LLM response: ${await sample('needed', 'Say hello', 20)}`),
  );

  tool('test_streaming_elicitation', 'Logs, then asks the client for input', async () => {
    await server.notification({
      method: 'notifications/message',
      params: { level: 'info', data: 'eliciting' },
    });
    const { response } = await ask('response', 'Anything to add?', 'response', 'string');
    return text(`Response: ${String(response)}`);
  });

  tool('test_logging_tool', 'Sends log messages while it runs', async () => {
    for (const data of ['started', 'working', 'done']) {
      await server.notification({ method: 'notifications/message', params: { level: 'info', data } });
    }
    return text('Logging tool done');
  });

  // Mutations: each call adds or removes a tool / prompt (the SDK sends list_changed).
  toggle('test_trigger_tool_change', 'tool test_dynamic_tool', () =>
    s.registerTool('test_dynamic_tool', { description: 'Comes and goes' }, () => text('dynamic')),
  );
  toggle('test_trigger_prompt_change', 'prompt test_dynamic_prompt', () =>
    s.registerPrompt('test_dynamic_prompt', { description: 'Comes and goes' }, () => ({
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: 'dynamic' } }],
    })),
  );
}

/** A tool `name` whose calls alternately add (`add`) and remove `what`. */
function toggle(name: string, what: string, add: () => { remove(): void }): void {
  let added: { remove(): void } | undefined;
  tool(name, `Adds or removes the ${what}`, () => {
    if (added) {
      added.remove();
      added = undefined;
      return text(`Removed the ${what}`);
    }
    added = add();
    return text(`Added the ${what}`);
  });
}

await mcpServer.connect(new StdioServerTransport());
