import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureMcpServerCommand, isPidAlive, waitFor } from '../src/index.js';

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(
  env?: Record<string, string>,
): Promise<{ client: Client; transport: StdioClientTransport }> {
  const { command, args } = fixtureMcpServerCommand();
  const transport = new StdioClientTransport({ command, args, stderr: 'pipe', ...(env ? { env } : {}) });
  const client = new Client({ name: 'fixture-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, (req) => {
    const first = req.params.messages[0]?.content;
    const said = first && 'text' in first ? first.text : '';
    return { role: 'assistant', model: 'stub', content: { type: 'text', text: `sampled: ${said}` } };
  });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const textOf = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

describe('fixtureMcpServer over stdio', () => {
  it('lists its tools, resource and prompt', async () => {
    const { client } = await connect();
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(
      [
        'add',
        'big',
        'change-list',
        'crash',
        'echo',
        'elicit',
        'elicit-two',
        'env',
        'garbage',
        'grandchild',
        'meta',
        'notify',
        'pid',
        'record',
        'route',
        'rpc-error',
        'sample',
        'slow',
        'stderr',
        'touch',
        'url-elicit',
      ].sort(),
    );
    const meta = await client.callTool({ name: 'meta', arguments: {}, _meta: { traceparent: 'tp' } });
    expect(JSON.parse((meta.content as { text: string }[])[0]!.text)).toMatchObject({ traceparent: 'tp' });
    const res = await client.readResource({ uri: 'fixture://greeting' });
    expect(res.contents[0]).toMatchObject({ text: 'hello from the fixture' });
    const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Say hello to Ada' });
  });

  it('answers echo and add, reports progress, samples and notifies', async () => {
    const { client } = await connect();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }))).toBe('42');
    const progress: number[] = [];
    const slow = await client.callTool({ name: 'slow', arguments: { ms: 30, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(slow)).toBe('slept 30ms');
    expect(progress).toEqual([1, 2, 3]);
    expect(textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } }))).toBe(
      'sampled: ping',
    );
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
    await client.callTool({ name: 'notify', arguments: { message: 'look' } });
    await waitFor(() => logs.length === 1);
    expect(logs).toEqual(['look']);
  });

  it('writes to stderr, reports env and exits on crash', async () => {
    const { client, transport } = await connect();
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await client.callTool({ name: 'stderr', arguments: { text: 'to-stderr' } });
    await waitFor(() => stderr.includes('to-stderr'));
    const env = JSON.parse(
      textOf(await client.callTool({ name: 'env', arguments: { names: ['PATH', 'NOPE_X'] } })),
    );
    expect(env).toEqual({ PATH: process.env.PATH, NOPE_X: null });
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    expect(pid).toBe(transport.pid);
    await expect(client.callTool({ name: 'crash', arguments: { code: 3 } })).rejects.toThrow();
    await waitFor(() => !isPidAlive(pid));
  });

  it('resources/subscribe to fixture://watched: a touch by another child sends notifications/resources/updated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fixture-watch-'));
    try {
      const env = { PATH: process.env.PATH ?? '', FIXTURE_WATCH_FILE: join(dir, 'w.txt') };
      const watcher = await connect(env);
      const writer = await connect(env);
      expect(watcher.client.getServerCapabilities()?.resources?.subscribe).toBe(true);
      const updates: string[] = [];
      watcher.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updates.push(n.params.uri);
      });
      await watcher.client.subscribeResource({ uri: 'fixture://watched' });
      await writer.client.callTool({ name: 'touch', arguments: { text: 'new' } });
      await waitFor(() => updates.length > 0);
      expect(updates[0]).toBe('fixture://watched');
      const read = await watcher.client.readResource({ uri: 'fixture://watched' });
      expect(read.contents[0]).toMatchObject({ text: 'new' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
