// Issue 20, the bounds of relaying input requests to federated 2025 sessions
// (src/federation/elicitation-relay.ts): waits per session, the answer deadline, the
// session's end, and the number of rounds.
import { describe, expect, it } from 'vitest';
import { PendingInputs, relayInputs } from '../src/federation/elicitation-relay.js';
import type { MemberReply } from '../src/federation/member.js';

const inputRequired = (n: number): MemberReply => ({
  result: {
    resultType: 'input_required',
    inputRequests: { [`input-${n}`]: { method: 'elicitation/create', params: { message: `q${n}` } } },
    requestState: `state-${n}`,
  },
});

describe('PendingInputs', () => {
  it('a session has at most maxPendingPerSession requests waiting; others are refused at once', async () => {
    const pending = new PendingInputs({ maxPendingPerSession: 2, answerTimeoutMs: 60_000 });
    const sent: Array<{ id: string }> = [];
    const send = (m: Record<string, unknown>) => sent.push(m as { id: string });
    const a = pending.ask('s1', send, 'elicitation/create', {});
    const b = pending.ask('s1', send, 'elicitation/create', {});
    expect(await pending.ask('s1', send, 'elicitation/create', {})).toMatchObject({
      error: { code: -32603 },
    });
    // Another session has a bound of its own.
    const c = pending.ask('s2', send, 'roots/list', {});
    expect(sent).toHaveLength(3);
    // An answer posted to another session never matches.
    expect(pending.answer('s2', { id: sent[0]!.id, result: {} })).toBe(false);
    expect(pending.answer('s1', { id: sent[0]!.id, result: { action: 'accept' } })).toBe(true);
    expect(await a).toEqual({ result: { action: 'accept' } });
    expect(pending.answer('s1', { id: sent[1]!.id, error: { code: -1, message: 'no' } })).toBe(true);
    expect(await b).toEqual({ error: { code: -1, message: 'no' } });
    pending.closeSession('s2');
    expect(await c).toMatchObject({ error: { message: 'the session ended' } });
    expect(pending.size).toBe(0);
  });

  it('a request the client does not answer in time fails with -32001', async () => {
    const pending = new PendingInputs({ maxPendingPerSession: 4, answerTimeoutMs: 20 });
    const r = await pending.ask('s', () => {}, 'elicitation/create', {});
    expect(r).toMatchObject({ error: { code: -32001 } });
    expect(pending.size).toBe(0);
  });

  it('the call ending (its signal) ends its waits', async () => {
    const pending = new PendingInputs();
    const abort = new AbortController();
    const r = pending.ask('s', () => abort.abort(), 'elicitation/create', {}, abort.signal);
    expect(await r).toMatchObject({ error: { code: -32603 } });
    expect(pending.size).toBe(0);
  });
});

describe('relayInputs', () => {
  it('retries with the answers under their keys and the requestState until the member completes', async () => {
    const retries: unknown[] = [];
    const reply = await relayInputs(inputRequired(1), {
      capabilities: { elicitation: {} },
      ask: async (_m, params) => ({ result: { action: 'accept', content: { q: params.message } } }),
      retry: async (inputResponses, requestState) => {
        retries.push({ inputResponses, requestState });
        return retries.length < 2 ? inputRequired(2) : { result: { content: [] } };
      },
    });
    expect(reply).toEqual({ result: { content: [] } });
    expect(retries).toEqual([
      { inputResponses: { 'input-1': { action: 'accept', content: { q: 'q1' } } }, requestState: 'state-1' },
      { inputResponses: { 'input-2': { action: 'accept', content: { q: 'q2' } } }, requestState: 'state-2' },
    ]);
  });

  it('a URL-mode elicitation of a 2026 member reaches the 2025 client with the elicitationId 2025-11-25 requires', async () => {
    const asked: Record<string, unknown>[] = [];
    const url = {
      mode: 'url',
      message: 'Connect',
      url: 'https://gw.example/account/upstream/connect?service=a',
    };
    const first: MemberReply = {
      result: {
        resultType: 'input_required',
        inputRequests: { connect: { method: 'elicitation/create', params: url } },
        requestState: 's',
      },
    };
    await relayInputs(first, {
      capabilities: { elicitation: { url: {} } },
      ask: async (_m, params) => (asked.push(params), { result: { action: 'accept' } }),
      retry: async () => ({ result: { content: [] } }),
    });
    expect(asked).toEqual([{ ...url, elicitationId: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
  });

  it('stops after maxRounds', async () => {
    let n = 0;
    const reply = await relayInputs(inputRequired(0), {
      capabilities: { elicitation: {} },
      ask: async () => ({ result: { action: 'cancel' } }),
      retry: async () => inputRequired(++n),
      maxRounds: 3,
    });
    expect(n).toBe(3);
    expect(reply).toMatchObject({ error: { code: -32603, message: expect.stringMatching(/more than 3/) } });
  });

  it('an input the client did not declare the capability for is -32021, never asked', async () => {
    let asked = 0;
    const reply = await relayInputs(inputRequired(0), {
      capabilities: { sampling: {} },
      ask: async () => (asked++, { result: {} }),
      retry: async () => ({ result: {} }),
    });
    expect(asked).toBe(0);
    expect(reply).toMatchObject({
      error: { code: -32021, data: { requiredCapabilities: { elicitation: {} } } },
    });
  });
});
