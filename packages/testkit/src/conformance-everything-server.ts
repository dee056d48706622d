/**
 * The MCP conformance suite's reference "everything-server", ported to stdio, so the suite's server
 * scenarios can run against a stdio server behind our bridge (`mcp-streamablehttp-proxy`) and the
 * gateway. Run it as a child process: `node dist/conformance-everything-server.js`.
 *
 * Source: github.com/modelcontextprotocol/conformance, tag v0.1.16 (commit
 * 21a9a2febd7100d7c17ac1021ee7f2ed9f66a1e0), `examples/servers/typescript/everything-server.ts`.
 * Licence: MIT (the package `@modelcontextprotocol/conformance` 0.1.16 is published under MIT; the
 * repository is moving to Apache-2.0, which our project uses). The file is not shipped in the npm
 * package, hence this copy.
 *
 * What differs from the original, and why:
 * - Transport: `StdioServerTransport` instead of the express app with `StreamableHTTPServerTransport`
 *   and its in-memory event store. Sessions, SSE, resumability and DNS-rebinding protection are the
 *   job of whatever serves this child over HTTP (the bridge), which is what the scenarios test.
 *   One process serves one session, so the module-level state is per session, as in the original.
 * - `test_reconnection` cannot close the HTTP stream (a stdio server has none); it answers after the
 *   same 100 ms pause. The scenario `server-sse-polling` treats an answer on the POST stream as
 *   informational.
 * - Nothing is written to stdout but protocol messages (the original `console.log`s go to stderr).
 * - `test_sampling` validates the answer with `CreateMessageResultSchema` (the original passes a
 *   schema that expects a `method` field in the result and so always reports an error text; the
 *   scenario only checks that sampling was requested).
 * - `test_simple_text` uses `registerTool` like the other tools (the original's `tool()` works
 *   around a logging bug that does not concern this tool).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListToolsRequestSchema,
  type ElicitRequest,
  type ListToolsResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const resourceSubscriptions = new Set<string>();
const watchedResourceContent = 'Watched resource content';

// Sample base64 encoded 1x1 red PNG pixel for testing
const TEST_IMAGE_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

// Sample base64 encoded minimal WAV file for testing
const TEST_AUDIO_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

// SEP-1613: raw JSON Schema 2020-12 whose $schema, $defs and additionalProperties must survive.
const JSON_SCHEMA_2020_12_INPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object' as const,
  $defs: {
    address: {
      type: 'object',
      properties: {
        street: { type: 'string' },
        city: { type: 'string' },
      },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
  },
  additionalProperties: false,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

const mcpServer = new McpServer(
  { name: 'mcp-conformance-test-server', version: '1.0.0' },
  {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
  },
);

function sendLog(level: 'info', message: string) {
  mcpServer.server
    .notification({
      method: 'notifications/message',
      params: { level, logger: 'conformance-test-server', data: message },
    })
    .catch(() => {
      // Ignore error if no client is connected
    });
}

/** Asks the client for input and reports its answer as text (`prefix: action=…, content=…`). */
async function elicit(params: ElicitRequest['params'], prefix: string) {
  try {
    const result = await mcpServer.server.request(
      { method: 'elicitation/create', params },
      ElicitResultSchema,
    );
    return text(`${prefix}: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
  } catch (error) {
    return text(`Elicitation not supported or error: ${errorText(error)}`);
  }
}

// ===== TOOLS =====

mcpServer.registerTool('test_simple_text', { description: 'Tests simple text content response' }, () =>
  text('This is a simple text response for testing.'),
);

mcpServer.registerTool('test_image_content', { description: 'Tests image content response' }, () => ({
  content: [{ type: 'image' as const, data: TEST_IMAGE_BASE64, mimeType: 'image/png' }],
}));

mcpServer.registerTool('test_audio_content', { description: 'Tests audio content response' }, () => ({
  content: [{ type: 'audio' as const, data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' }],
}));

mcpServer.registerTool(
  'test_embedded_resource',
  { description: 'Tests embedded resource content response' },
  () => ({
    content: [
      {
        type: 'resource' as const,
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }),
);

mcpServer.registerTool(
  'test_multiple_content_types',
  { description: 'Tests response with multiple content types (text, image, resource)' },
  () => ({
    content: [
      { type: 'text' as const, text: 'Multiple content types test:' },
      { type: 'image' as const, data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
      {
        type: 'resource' as const,
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  }),
);

mcpServer.registerTool(
  'test_tool_with_logging',
  { description: 'Tests tool that emits log messages during execution', inputSchema: {} },
  async (_args, { sendNotification }) => {
    for (const [i, data] of [
      'Tool execution started',
      'Tool processing data',
      'Tool execution completed',
    ].entries()) {
      if (i > 0) await sleep(50);
      await sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
    }
    return text('Tool with logging executed successfully');
  },
);

mcpServer.registerTool(
  'test_tool_with_progress',
  { description: 'Tests tool that reports progress notifications', inputSchema: {} },
  async (_args, { sendNotification, _meta }) => {
    const progressToken = _meta?.progressToken ?? 0;
    process.stderr.write(`Progress token: ${String(progressToken)}\n`);
    for (const progress of [0, 50, 100]) {
      if (progress > 0) await sleep(50);
      await sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
      });
    }
    return text(String(progressToken));
  },
);

mcpServer.registerTool('test_error_handling', { description: 'Tests error response handling' }, () => {
  throw new Error('This tool intentionally returns an error for testing');
});

mcpServer.registerTool(
  'test_reconnection',
  {
    description:
      'Tests SSE stream disconnection and client reconnection (SEP-1699). Over stdio the server cannot close the stream; it answers after 100 ms.',
    inputSchema: {},
  },
  async () => {
    await sleep(100);
    return text(
      'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
    );
  },
);

mcpServer.registerTool(
  'test_sampling',
  {
    description: 'Tests server-initiated sampling (LLM completion request)',
    inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
  },
  async ({ prompt }) => {
    try {
      const result = await mcpServer.server.request(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      const reply = result.content.type === 'text' ? result.content.text : 'No response';
      return text(`LLM response: ${reply}`);
    } catch (error) {
      return text(`Sampling not supported or error: ${errorText(error)}`);
    }
  },
);

mcpServer.registerTool(
  'test_elicitation',
  {
    description: 'Tests server-initiated elicitation (user input request)',
    inputSchema: { message: z.string().describe('The message to show the user') },
  },
  ({ message }) =>
    elicit(
      {
        message,
        requestedSchema: {
          type: 'object',
          properties: { response: { type: 'string', description: "User's response" } },
          required: ['response'],
        },
      },
      'User response',
    ),
);

mcpServer.registerTool(
  'test_elicitation_sep1034_defaults',
  { description: 'Tests elicitation with default values per SEP-1034', inputSchema: {} },
  () =>
    elicit(
      {
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      },
      'Elicitation completed',
    ),
);

mcpServer.registerTool(
  'test_elicitation_sep1330_enums',
  { description: 'Tests elicitation with enum schema improvements per SEP-1330', inputSchema: {} },
  () =>
    elicit(
      {
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Select one option',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Select one option with titles',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      },
      'Elicitation completed',
    ),
);

// SEP-1613: registered with zod for tools/call; tools/list (below) returns the raw 2020-12 schema.
mcpServer.registerTool(
  'json_schema_2020_12_tool',
  {
    description: 'Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)',
    inputSchema: {
      name: z.string().optional(),
      address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
    },
  },
  (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
);

// ===== RESOURCES =====

mcpServer.registerResource(
  'static-text',
  'test://static-text',
  {
    title: 'Static Text Resource',
    description: 'A static text resource for testing',
    mimeType: 'text/plain',
  },
  () => ({
    contents: [
      {
        uri: 'test://static-text',
        mimeType: 'text/plain',
        text: 'This is the content of the static text resource.',
      },
    ],
  }),
);

mcpServer.registerResource(
  'static-binary',
  'test://static-binary',
  {
    title: 'Static Binary Resource',
    description: 'A static binary resource (image) for testing',
    mimeType: 'image/png',
  },
  () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }] }),
);

mcpServer.registerResource(
  'template',
  new ResourceTemplate('test://template/{id}/data', { list: undefined }),
  {
    title: 'Resource Template',
    description: 'A resource template with parameter substitution',
    mimeType: 'application/json',
  },
  (uri, variables) => ({
    contents: [
      {
        uri: uri.toString(),
        mimeType: 'application/json',
        text: JSON.stringify({
          id: variables.id,
          templateTest: true,
          data: `Data for ID: ${String(variables.id)}`,
        }),
      },
    ],
  }),
);

mcpServer.registerResource(
  'watched-resource',
  'test://watched-resource',
  {
    title: 'Watched Resource',
    description: 'A resource that auto-updates every 3 seconds',
    mimeType: 'text/plain',
  },
  () => ({
    contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: watchedResourceContent }],
  }),
);

const uriParams = z.object({ params: z.object({ uri: z.string() }) });

for (const [method, subscribed] of [
  ['resources/subscribe', true],
  ['resources/unsubscribe', false],
] as const) {
  mcpServer.server.setRequestHandler(z.object({ method: z.literal(method) }).passthrough(), (request) => {
    const { uri } = uriParams.parse(request).params;
    if (subscribed) resourceSubscriptions.add(uri);
    else resourceSubscriptions.delete(uri);
    sendLog('info', `${subscribed ? 'Subscribed to' : 'Unsubscribed from'} resource: ${uri}`);
    return {};
  });
}

// ===== PROMPTS =====

mcpServer.registerPrompt(
  'test_simple_prompt',
  { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
  () => ({
    messages: [
      {
        role: 'user' as const,
        content: { type: 'text' as const, text: 'This is a simple prompt for testing.' },
      },
    ],
  }),
);

mcpServer.registerPrompt(
  'test_prompt_with_arguments',
  {
    title: 'Prompt With Arguments',
    description: 'A prompt with required arguments',
    argsSchema: {
      arg1: z.string().describe('First test argument'),
      arg2: z.string().describe('Second test argument'),
    },
  },
  ({ arg1, arg2 }) => ({
    messages: [
      {
        role: 'user' as const,
        content: { type: 'text' as const, text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
      },
    ],
  }),
);

mcpServer.registerPrompt(
  'test_prompt_with_embedded_resource',
  {
    title: 'Prompt With Embedded Resource',
    description: 'A prompt that includes an embedded resource',
    argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
  },
  ({ resourceUri }) => ({
    messages: [
      {
        role: 'user' as const,
        content: {
          type: 'resource' as const,
          resource: {
            uri: resourceUri,
            mimeType: 'text/plain',
            text: 'Embedded resource content for testing.',
          },
        },
      },
      {
        role: 'user' as const,
        content: { type: 'text' as const, text: 'Please process the embedded resource above.' },
      },
    ],
  }),
);

mcpServer.registerPrompt(
  'test_prompt_with_image',
  { title: 'Prompt With Image', description: 'A prompt that includes image content' },
  () => ({
    messages: [
      {
        role: 'user' as const,
        content: { type: 'image' as const, data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
      },
      { role: 'user' as const, content: { type: 'text' as const, text: 'Please analyze the image above.' } },
    ],
  }),
);

// ===== LOGGING =====

mcpServer.server.setRequestHandler(
  z.object({ method: z.literal('logging/setLevel') }).passthrough(),
  (request) => {
    const { level } = z.object({ params: z.object({ level: z.string() }) }).parse(request).params;
    sendLog('info', `Log level set to: ${level}`);
    return {};
  },
);

// ===== COMPLETION =====

mcpServer.server.setRequestHandler(
  z.object({ method: z.literal('completion/complete') }).passthrough(),
  () => ({ completion: { values: [], total: 0, hasMore: false } }),
);

// ===== SEP-1613: tools/list with the raw JSON Schema 2020-12 of json_schema_2020_12_tool =====

interface RegisteredTool {
  enabled: boolean;
  title?: string;
  description?: string;
  inputSchema?: Parameters<typeof toJsonSchemaCompat>[0];
  annotations?: Tool['annotations'];
  _meta?: Tool['_meta'];
}

mcpServer.server.setRequestHandler(ListToolsRequestSchema, (): ListToolsResult => {
  // The SDK's registered tools (internal, but the reference server reads them the same way).
  const registered = (mcpServer as unknown as { _registeredTools: Record<string, RegisteredTool> })
    ._registeredTools;
  return {
    tools: Object.entries(registered)
      .filter(([, tool]) => tool.enabled)
      .map(([name, tool]): Tool => {
        if (name === 'json_schema_2020_12_tool') {
          return { name, description: tool.description, inputSchema: JSON_SCHEMA_2020_12_INPUT_SCHEMA };
        }
        const inputSchema = tool.inputSchema
          ? (toJsonSchemaCompat(tool.inputSchema, {
              strictUnions: true,
              pipeStrategy: 'input',
            }) as Tool['inputSchema'])
          : { type: 'object' as const, properties: {} };
        return {
          name,
          title: tool.title,
          description: tool.description,
          inputSchema,
          annotations: tool.annotations,
          _meta: tool._meta,
        };
      }),
  };
});

await mcpServer.connect(new StdioServerTransport());
