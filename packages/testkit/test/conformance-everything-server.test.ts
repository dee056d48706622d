import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { conformanceEverythingServerCommand } from '../src/index.js';

/** Sends `messages` as lines to a fresh child and collects its stdout lines until `done` says so. */
async function exchange(messages: object[], done: (lines: string[]) => boolean): Promise<string[]> {
  const { command, args } = conformanceEverythingServerCommand();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`exited (${code}) after:\n${lines.join('\n')}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (done(lines)) resolve();
      });
      for (const m of messages) child.stdin.write(JSON.stringify(m) + '\n');
    });
    return lines;
  } finally {
    child.kill();
  }
}

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

describe('conformance everything-server (stdio port of the suite reference server)', () => {
  it('stdout carries only JSON-RPC: the progress tool logs its token to stderr, not stdout', async () => {
    const lines = await exchange(
      [
        initialize,
        initialized,
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'tok' } },
        },
      ],
      (ls) => ls.some((l) => l.includes('"id":1')),
    );
    const messages = lines.map((l) => JSON.parse(l) as { id?: number; method?: string; result?: unknown });
    expect(messages.filter((m) => m.method === 'notifications/progress')).toHaveLength(3);
    expect(messages.find((m) => m.id === 1)?.result).toEqual({ content: [{ type: 'text', text: 'tok' }] });
  });

  it('tools/list keeps the raw JSON Schema 2020-12 of json_schema_2020_12_tool and lists the reference tools', async () => {
    const lines = await exchange(
      [initialize, initialized, { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
      (ls) => ls.some((l) => l.includes('"id":1')),
    );
    const list = lines.map(
      (l) => JSON.parse(l) as { id?: number; result?: { tools: { name: string; inputSchema: object }[] } },
    );
    const tools = list.find((m) => m.id === 1)!.result!.tools;
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'test_simple_text',
        'test_image_content',
        'test_sampling',
        'test_reconnection',
      ]),
    );
    expect(tools.find((t) => t.name === 'json_schema_2020_12_tool')!.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { address: { type: 'object' } },
      additionalProperties: false,
    });
  });
});
