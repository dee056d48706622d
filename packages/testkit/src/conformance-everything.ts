/**
 * The tools, resources and prompts of the MCP conformance suite's reference "everything-server"
 * (v0.1.16), on an SDK 1.x `McpServer` that is not connected yet. The stdio entry points
 * (`conformance-everything-server.ts`, and `conformance-everything-server-2026.ts`, which adds the
 * 2026-07-28 suite's diagnostic tools) connect it. See `conformance-everything-server.ts` for the
 * source, licence and what differs from the original.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import { ListToolsRequestSchema, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { registerClientTools } from './conformance-everything-client-tools.js';
import { sleep, text } from './conformance-everything-shared.js';

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

interface RegisteredTool {
  enabled: boolean;
  title?: string;
  description?: string;
  inputSchema?: Parameters<typeof toJsonSchemaCompat>[0];
  annotations?: Tool['annotations'];
  _meta?: Tool['_meta'];
}

/** A fresh everything-server (its subscriptions are per server, i.e. per stdio session). */
export function createEverythingServer(): McpServer {
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

  registerContentTools(mcpServer);
  registerClientTools(mcpServer);
  registerResources(mcpServer);
  registerPrompts(mcpServer);
  registerHandlers(mcpServer);
  return mcpServer;
}

function sendLog(mcpServer: McpServer, level: 'info', message: string) {
  mcpServer.server
    .notification({
      method: 'notifications/message',
      params: { level, logger: 'conformance-test-server', data: message },
    })
    .catch(() => {
      // Ignore error if no client is connected
    });
}

/** Tools answering with content, logs, progress or an error. */
function registerContentTools(mcpServer: McpServer): void {
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
}

/** Resources, a template, and resources/subscribe|unsubscribe. */
function registerResources(mcpServer: McpServer): void {
  const resourceSubscriptions = new Set<string>();
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
      sendLog(mcpServer, 'info', `${subscribed ? 'Subscribed to' : 'Unsubscribed from'} resource: ${uri}`);
      return {};
    });
  }
}

/** The prompts. */
function registerPrompts(mcpServer: McpServer): void {
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
        {
          role: 'user' as const,
          content: { type: 'text' as const, text: 'Please analyze the image above.' },
        },
      ],
    }),
  );
}

/** logging/setLevel, completion/complete, and tools/list with the raw 2020-12 schema. */
function registerHandlers(mcpServer: McpServer): void {
  // ===== LOGGING =====

  mcpServer.server.setRequestHandler(
    z.object({ method: z.literal('logging/setLevel') }).passthrough(),
    (request) => {
      const { level } = z.object({ params: z.object({ level: z.string() }) }).parse(request).params;
      sendLog(mcpServer, 'info', `Log level set to: ${level}`);
      return {};
    },
  );

  // ===== COMPLETION =====

  mcpServer.server.setRequestHandler(
    z.object({ method: z.literal('completion/complete') }).passthrough(),
    () => ({ completion: { values: [], total: 0, hasMore: false } }),
  );

  // ===== SEP-1613: tools/list with the raw JSON Schema 2020-12 of json_schema_2020_12_tool =====

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
}
