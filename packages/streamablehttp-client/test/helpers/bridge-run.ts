/**
 * A {@link StdioBridge} run in this process over in-memory stdin/stdout, for
 * tests that drive it as a host would: write lines, wait for answers.
 */
import { PassThrough } from 'node:stream';
import { waitFor } from '@mcp-gateway/testkit';
import { StdioBridge, type BridgeOptions } from '../../src/index.js';

export type HostMessage = Record<string, unknown>;

export interface BridgeRun {
  /** Writes one JSON-RPC message (`jsonrpc` added) as a line. */
  send(m: HostMessage): void;
  /** Sends a request and resolves with its answer. */
  request(id: string | number, method: string, params?: HostMessage): Promise<HostMessage>;
  /** Resolves with the answer to `id` once written. */
  answer(id: string | number): Promise<HostMessage>;
  /** Every message written to stdout so far. */
  messages(): HostMessage[];
  /** Ends stdin and waits for the bridge to finish. */
  stop(): Promise<void>;
}

/** The `initialize` params of a 2025-11-25 host. */
export const HOST_INIT = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'h', version: '1' },
};

export function runBridge(opts: Omit<BridgeOptions, 'input' | 'output'>): BridgeRun {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.setEncoding('utf8').on('data', (c: string) => (out += c));
  const done = new StdioBridge({ ...opts, input, output }).run();
  const messages = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as HostMessage);
  const send = (m: HostMessage) => input.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
  const answer = async (id: string | number) =>
    (await waitFor(() => messages().find((m) => m.id === id && !('method' in m)), {
      timeoutMs: 10_000,
      message: `no answer to ${id}`,
    }))!;
  return {
    send,
    answer,
    messages,
    request: (id, method, params = {}) => {
      send({ id, method, params });
      return answer(id);
    },
    stop: async () => {
      input.end();
      await done;
    },
  };
}
