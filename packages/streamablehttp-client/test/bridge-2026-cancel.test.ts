/**
 * The bridge's input requests to a 2025 host (elicitation, sampling, roots for
 * an `input_required` round) are withdrawn with `notifications/cancelled` when
 * they will no longer be used (MCP 2026-07-28 basic/patterns/cancellation).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { EraCache } from '../src/index.js';
import { HOST_INIT, runBridge, type BridgeRun, type HostMessage } from './helpers/bridge-run.js';
import { startModernServer } from './helpers/modern-server.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function bridged(opts: { inputTimeoutMs?: number } = {}) {
  const s = await startModernServer();
  closers.push(() => s.close());
  const b = runBridge({ url: new URL(s.mcpUrl), eraCache: new EraCache(), ...opts });
  closers.push(() => b.stop());
  await b.request(0, 'initialize', { ...HOST_INIT, capabilities: { elicitation: {} } });
  return { s, b };
}

const asked = async (b: BridgeRun, count: number) =>
  (await waitFor(
    () => {
      const m = b.messages().filter((x) => x.method === 'elicitation/create');
      return m.length >= count ? m : undefined;
    },
    { timeoutMs: 10_000, message: `not asked ${count} elicitations` },
  ))!;

const cancellations = (b: BridgeRun) =>
  b
    .messages()
    .filter((m) => m.method === 'notifications/cancelled')
    .map((m) => m.params as HostMessage);

describe('bridge: withdrawing input requests from the host', () => {
  it('the host cancels its request while the elicitation is open: the elicitation is cancelled too, a late answer is ignored', async () => {
    const { s, b } = await bridged();
    b.send({ id: 1, method: 'tools/call', params: { name: 'confirm', arguments: {} } });
    const [question] = await asked(b, 1);
    b.send({ method: 'notifications/cancelled', params: { requestId: 1, reason: 'user' } });
    await waitFor(() => cancellations(b).length > 0, { timeoutMs: 10_000, message: 'nothing cancelled' });
    expect(cancellations(b)).toEqual([{ requestId: question!.id, reason: 'the request was cancelled' }]);
    b.send({ id: question!.id, result: { action: 'accept', content: { yes: true } } });
    expect((await b.request(2, 'ping')).result).toEqual({});
    expect(b.messages().some((m) => m.id === 1 && !('method' in m))).toBe(false);
    expect(s.seen.filter((r) => r.method === 'tools/call')).toHaveLength(1);
  });

  it('one input request of a round fails: the others still open are cancelled, and the request fails', async () => {
    const { b } = await bridged();
    b.send({ id: 1, method: 'tools/call', params: { name: 'many_inputs', arguments: { count: 3 } } });
    const questions = await asked(b, 3);
    b.send({ id: questions[0]!.id, result: { action: 'decline' } });
    b.send({ id: questions[1]!.id, error: { code: -1, message: 'no' } });
    const answer = await b.answer(1);
    expect(answer.error).toMatchObject({ code: -32000, data: { code: 'host_error' } });
    expect(cancellations(b)).toEqual([
      { requestId: questions[2]!.id, reason: 'another input request of the round failed' },
    ]);
  });

  it('an input request the host does not answer in time (inputTimeoutMs) is cancelled, and the request fails with timeout', async () => {
    const { b } = await bridged({ inputTimeoutMs: 300 });
    b.send({ id: 1, method: 'tools/call', params: { name: 'confirm', arguments: {} } });
    const [question] = await asked(b, 1);
    const answer = await b.answer(1);
    expect(answer.error).toMatchObject({ code: -32000, data: { code: 'timeout' } });
    expect(cancellations(b)).toEqual([{ requestId: question!.id, reason: 'timed out' }]);
  });
});
