import { createFetchCore, silentLogger, type FetchCore, type FetchServerOptions } from '../../src/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { runFetchTool } from '../../src/index.js';

/** A core that reaches the loopback test servers through the allow-list, robots.txt off unless asked. */
export function testCore(options: FetchServerOptions = {}): FetchCore {
  return createFetchCore({
    allowHosts: ['127.0.0.1'],
    ignoreRobotsTxt: true,
    logger: silentLogger,
    ...options,
  });
}

/** Calls the tool with the official defaults filled in. */
export function callFetch(
  core: FetchCore,
  args: { url: string; max_length?: number; start_index?: number; raw?: boolean },
): Promise<CallToolResult> {
  return runFetchTool(core, { max_length: 5000, start_index: 0, raw: false, ...args });
}

/** The text of a tool result. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error('expected a text result');
  return first.text;
}
