/**
 * `input_required` rounds (MCP 2026-07-28 basic/patterns/mrtr): rounds that
 * carry only `requestState` are retried with growing pauses within a time
 * budget, not counted as input rounds; a round asking for more input requests
 * than the client answers fails with a clear error, and the host is not asked.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { createAuthFetch, EraCache, ModernClient, openConnection, ServerError } from '../src/index.js';
import { startAuth2026Server } from './helpers/auth-2026-server.js';
import { HOST_INIT, runBridge } from './helpers/bridge-run.js';
import { slowLaterSignIns } from './helpers/flow.js';
import { modernServersPerTest } from './helpers/modern-server.js';

const { closers, modern } = modernServersPerTest();

const client = (url: string, stateRetry: { firstMs: number; maxMs: number; budgetMs: number }) =>
  new ModernClient({ url: new URL(url), fetch, clientInfo: { name: 't', version: '1' }, stateRetry });

const callsOf = (s: Awaited<ReturnType<typeof modern>>) => s.seen.filter((r) => r.method === 'tools/call');

describe('input_required with only requestState', () => {
  it('is retried with growing pauses, and more than 10 such rounds are not a failure', async () => {
    const s = await modern();
    const c = client(s.mcpUrl, { firstMs: 20, maxMs: 80, budgetMs: 10_000 });
    const answer = await c.request('tools/call', { name: 'busy', arguments: { rounds: 12 } });
    expect(answer.content).toEqual([{ type: 'text', text: 'served after 12 retries' }]);
    const calls = callsOf(s);
    expect(calls.map((r) => r.params.requestState)).toEqual([
      undefined,
      ...Array.from({ length: 12 }, (_, i) => `busy-${i + 1}`),
    ]);
    expect(calls.every((r) => r.params.inputResponses === undefined)).toBe(true);
    const gaps = calls.slice(1).map((r, i) => r.at - calls[i]!.at);
    // 20, 40, then 80 ms each (timers may fire a little late, never early).
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(79);
  });

  it('gives up once its time budget is spent, not after a count of instant retries', async () => {
    const s = await modern();
    const c = client(s.mcpUrl, { firstMs: 50, maxMs: 100, budgetMs: 600 });
    const started = Date.now();
    const err = await c.request('tools/call', { name: 'busy', arguments: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('input_rounds');
    expect((err as ServerError).message).toContain('kept asking for a retry with requestState');
    // 50 ms, then 100 ms pauses while they fit in 600 ms: about 7 calls, not 11 at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(callsOf(s).length).toBeLessThanOrEqual(8);
  });

  it('a sign-in a retry waits for (a step-up slower than the budget) does not spend the budget', async () => {
    const s = await startAuth2026Server();
    closers.push(() => s.close());
    // The user signs in at once the first time; the step-up takes 1.5 s, past the 600 ms budget.
    const { session, signIns } = slowLaterSignIns(s.mcpUrl, 1500);
    // Three rounds with only requestState; from the third request on the server wants scope `admin`.
    s.result = (params) => {
      const done = typeof params.requestState === 'string' ? Number(params.requestState.slice(5)) : 0;
      if (done === 1) s.requiredScope = 'admin';
      if (done >= 3) return { resultType: 'complete', content: [{ type: 'text', text: 'served' }] };
      return { resultType: 'input_required', requestState: `busy-${done + 1}` };
    };
    const c = new ModernClient({
      url: new URL(s.mcpUrl),
      fetch: createAuthFetch({ session }),
      clientInfo: { name: 't', version: '1' },
      stateRetry: { firstMs: 20, maxMs: 20, budgetMs: 600 },
    });
    const answer = await c.request('tools/call', { name: 'busy', arguments: {} });
    expect(answer.content).toEqual([{ type: 'text', text: 'served' }]);
    expect(signIns).toHaveLength(2);
    expect(s.as.a.authorizeRequests.at(-1)?.get('scope')).toContain('admin');
  });

  it('a one-shot command (no host to ask) retries such rounds too', async () => {
    const s = await modern();
    const c = await openConnection(s.mcpUrl, { eraCache: new EraCache() });
    const result = await c.callTool({ name: 'busy', arguments: { rounds: 2 } });
    expect(result.content).toEqual([{ type: 'text', text: 'served after 2 retries' }]);
  });
});

describe('input requests per round', () => {
  it('bridge: a round asking for more than 16 inputs fails the request with too_many_inputs, the host asked nothing; 16 are all asked and answered', async () => {
    const s = await modern();
    const b = runBridge({ url: new URL(s.mcpUrl), eraCache: new EraCache() });
    closers.push(() => b.stop());
    await b.request(0, 'initialize', { ...HOST_INIT, capabilities: { elicitation: {} } });
    const answer = await b.request(1, 'tools/call', { name: 'many_inputs', arguments: { count: 17 } });
    expect(answer.error).toMatchObject({ code: -32000, data: { code: 'too_many_inputs' } });
    expect((answer.error as { message: string }).message).toContain('asked for 17 inputs in one round');
    expect(b.messages().filter((m) => m.method === 'elicitation/create')).toEqual([]);
    expect(callsOf(s)).toHaveLength(1);

    b.send({ id: 2, method: 'tools/call', params: { name: 'many_inputs', arguments: { count: 16 } } });
    const asked = await waitFor(
      () => {
        const m = b.messages().filter((x) => x.method === 'elicitation/create');
        return m.length === 16 ? m : undefined;
      },
      { timeoutMs: 10_000, message: 'not all 16 asked' },
    );
    for (const m of asked!) b.send({ id: m.id, result: { action: 'accept', content: {} } });
    expect((await b.answer(2)).result).toMatchObject({ content: [{ type: 'text', text: 'got 16 answers' }] });
  });
});
