/**
 * A tiny stdio MCP server whose silences the test controls:
 * - `initialize` is answered (with the child's pid), unless started with `hang-initialize`;
 * - `ping` and `tools/list` are answered at once;
 * - `test/hang` is never answered;
 * - the notification `test/progress` `{ token }` makes it send `notifications/progress` for `token`;
 * - each `notifications/cancelled` is written to stderr as `cancelled <requestId> <reason>`.
 */
const SOURCE = `
const hangInitialize = process.argv.includes('hang-initialize');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let step = 0;
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const m = JSON.parse(l);
  if (m.method === 'initialize') {
    if (!hangInitialize) out({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'stuck', version: '1' }, pid: process.pid } });
  } else if (m.method === 'ping') out({ jsonrpc: '2.0', id: m.id, result: {} });
  else if (m.method === 'tools/list') out({ jsonrpc: '2.0', id: m.id, result: { tools: [] } });
  else if (m.method === 'test/progress') out({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: m.params.token, progress: ++step } });
  else if (m.method === 'notifications/cancelled') process.stderr.write('cancelled ' + JSON.stringify(m.params.requestId) + ' ' + m.params.reason + '\\n');
});
`;

/** Command and args of the stuck server (see the module comment). */
export function stuckServer(opts: { hangInitialize?: boolean } = {}): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: ['-e', SOURCE, ...(opts.hangInitialize ? ['hang-initialize'] : [])],
  };
}

/**
 * Reads a `text/event-stream` response message by message: `next(match)`
 * resolves with the first JSON-RPC message (from now on) that `match` accepts.
 */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly messages: Record<string, unknown>[] = [];

  constructor(res: Response) {
    if (!res.body) throw new Error('no body');
    this.reader = res.body.getReader();
  }

  async next(match: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex(match);
      if (i !== -1) return this.messages.splice(0, i + 1).pop()!;
      this.messages.length = 0;
      const { done, value } = await this.reader.read();
      if (done) throw new Error('stream ended before a matching message');
      this.buffer += this.decoder.decode(value, { stream: true });
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) !== -1) {
        const event = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (data) this.messages.push(JSON.parse(data) as Record<string, unknown>);
      }
    }
  }

  /** Stops reading (the client disconnects from the stream). */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
