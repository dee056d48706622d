import { createRequire } from 'node:module';
import path from 'node:path';
import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, connectClient, startBridge, textOf } from './helpers.js';

afterAll(closeAll);

const require = createRequire(import.meta.url);
const everything = path.join(
  path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

describe('@modelcontextprotocol/server-everything through the bridge', () => {
  it('interop: the SDK client lists and calls tools, resources and prompts, with progress and sampling', async () => {
    const b = await startBridge({ command: process.execPath, args: [everything, 'stdio'] });
    const { client } = await connectClient(b.mcpUrl);
    expect(client.getServerVersion()?.name).toMatch(/everything/i);
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'through the bridge' } });
    expect(textOf(echo)).toContain('through the bridge');
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } }))).toContain('42');
    const progress: number[] = [];
    const long = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(textOf(long)).toContain('Long running operation completed');
    expect(progress).toEqual([1, 2, 3]);
    // Sampling tools are registered once the server has seen the client's capabilities.
    await waitFor(async () =>
      (await client.listTools()).tools.some((t) => t.name === 'trigger-sampling-request'),
    );
    const sampled = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'bridge' },
    });
    expect(textOf(sampled)).toContain('sampled: Resource');
    const resources = await client.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    const first = resources.resources[0]!;
    const read = await client.readResource({ uri: first.uri });
    expect(read.contents[0]?.uri).toBe(first.uri);
    const prompts = await client.listPrompts();
    expect(prompts.prompts.length).toBeGreaterThan(0);
    await client.close();
  });
});
