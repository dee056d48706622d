import {
  LoggingMessageNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, connectClient, isRunning, startBridge, textOf } from './helpers.js';

afterAll(closeAll);

describe('MCP SDK client through the bridge (fixture server)', () => {
  it('streamable-http: every tool, resource and prompt answers through the bridge', async () => {
    const b = await startBridge();
    const { client, transport } = await connectClient(b.mcpUrl);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } }))).toBe('héllo ✓');
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 1.5, b: 2 } }))).toBe('3.5');
    expect(textOf(await client.callTool({ name: 'stderr', arguments: { text: 'to the log' } }))).toBe(
      'written',
    );
    const env = JSON.parse(textOf(await client.callTool({ name: 'env', arguments: { names: ['PATH'] } })));
    expect(env.PATH).toBe(process.env.PATH);
    expect(textOf(await client.callTool({ name: 'big', arguments: { bytes: 300_000 } }))).toHaveLength(
      300_000,
    );
    expect(textOf(await client.callTool({ name: 'garbage', arguments: {} }))).toBe('ok');
    const res = await client.readResource({ uri: 'fixture://greeting' });
    expect(res.contents[0]).toMatchObject({ text: 'hello from the fixture' });
    const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Say hello to Ada' });
    await waitFor(() => b.logs.find('child stderr').some((l) => l.line === 'to the log'));
    expect(b.logs.find('child stderr').find((l) => l.line === 'to the log')?.session).toBe(
      transport.sessionId,
    );
    expect(b.logs.find('non-JSON-RPC stdout line skipped')[0]).toMatchObject({ start: 'this is not json' });
    await client.close();
  });

  it('streamable-http: progress notifications reach the caller on its request stream', async () => {
    const b = await startBridge();
    const { client } = await connectClient(b.mcpUrl);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: { ms: 60, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(result)).toBe('slept 60ms');
    expect(progress).toEqual([1, 2, 3]);
    await client.close();
  });

  it('streamable-http: a sampling request reaches the client and its answer returns to the server', async () => {
    const b = await startBridge();
    const { client } = await connectClient(b.mcpUrl);
    expect(textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } }))).toBe(
      'sampled: ping',
    );
    await client.close();
  });

  it('streamable-http: logging notifications reach the client', async () => {
    const b = await startBridge();
    const { client } = await connectClient(b.mcpUrl);
    const got: LoggingMessageNotification['params'][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void got.push(n.params));
    await client.callTool({ name: 'notify', arguments: { message: 'hello log', level: 'warning' } });
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ level: 'warning', data: 'hello log' });
    await client.close();
  });

  it('lifecycle: a crashed child answers its in-flight request with an error naming the exit, then 404', async () => {
    const b = await startBridge();
    const { client, transport } = await connectClient(b.mcpUrl);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    await expect(client.callTool({ name: 'crash', arguments: { code: 7 } })).rejects.toThrow(
      /MCP server process exited \(code 7\)/,
    );
    await waitFor(() => !isRunning(pid));
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId!,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: -32001 } });
    expect(b.bridge.stats().crashes).toBe(1);
    await client.close();
  });

  it('lifecycle: DELETE ends the session and its child', async () => {
    const b = await startBridge();
    const { client, transport } = await connectClient(b.mcpUrl);
    const pid = Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));
    const grandchild = Number(textOf(await client.callTool({ name: 'grandchild', arguments: {} })));
    expect(isRunning(grandchild)).toBe(true);
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await waitFor(() => !isRunning(pid) && !isRunning(grandchild));
    const res = await fetch(b.mcpUrl, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
    });
    expect(res.status).toBe(404);
    await client.close();
  });

  it('streamable-http: calls in one session run concurrently (a fast call overtakes a slow one)', async () => {
    const b = await startBridge();
    const { client } = await connectClient(b.mcpUrl);
    let slowDone = false;
    const slow = client.callTool({ name: 'slow', arguments: { ms: 1500 } }).then((r) => {
      slowDone = true;
      return r;
    });
    const results = await Promise.all(
      [0, 1, 2].map((i) => client.callTool({ name: 'echo', arguments: { text: `fast ${i}` } })),
    );
    expect(results.map(textOf)).toEqual(['fast 0', 'fast 1', 'fast 2']);
    expect(slowDone).toBe(false);
    expect(textOf(await slow)).toBe('slept 1500ms');
    await client.close();
  });
});
