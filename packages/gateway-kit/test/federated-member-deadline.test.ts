// Issue 20, federated member requests: each has a deadline (the endpoint's `timeout`), checked by
// one shared coarse timer (`@mcp-gateway/internal/ticker`) instead of a timer per request. Past it
// the caller gets -32001 and the member request's signal aborts; an answer in time cancels it.
// The backends here are small in-process `ServiceBackend`s that show what the member saw.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TICK_MS } from '@mcp-gateway/internal/ticker';
import { memberRequest } from '../src/federation/member.js';
import { alice as identity, inProcessBackend, memberEntry } from './helpers/member-backend.js';

const entry = memberEntry('slowpoke');

/** A backend that answers only when `answer` is called, and keeps the requests it got. */
function heldBackend() {
  const requests: Request[] = [];
  let answer!: (body: string) => void;
  const backend = inProcessBackend((request) => {
    requests.push(request);
    return new Promise((resolve) => {
      answer = (body) => resolve(new Response(body, { headers: { 'content-type': 'application/json' } }));
    });
  });
  return { backend, requests, answer: (body: string) => answer(body) };
}

describe('federated member deadlines (one shared ticker)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    // Let the shared ticker find nothing in flight and stop its (fake) timer before real timers return.
    await vi.advanceTimersByTimeAsync(3 * TICK_MS);
    vi.useRealTimers();
  });

  it('a member that misses the deadline: -32001 within a tick of it, and its request signal aborts', async () => {
    const { backend, requests } = heldBackend();
    let settled = false;
    const reply = memberRequest(
      entry,
      backend,
      'tools/call',
      { name: 'wait' },
      { identity, timeoutMs: 1000 },
    );
    void reply.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1000 - TICK_MS);
    expect(settled).toBe(false);
    expect(requests[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2 * TICK_MS);
    expect(settled).toBe(true);
    expect(await reply).toEqual({
      error: { code: -32001, message: 'service "slowpoke" did not answer within 1s' },
    });
    expect(requests[0]!.signal.aborted).toBe(true);
  });

  it('an answer in time cancels the deadline: the reply stands and the signal never aborts', async () => {
    const { backend, requests, answer } = heldBackend();
    const reply = memberRequest(
      entry,
      backend,
      'tools/call',
      { name: 'quick' },
      { identity, timeoutMs: 500 },
    );
    await vi.advanceTimersByTimeAsync(100);
    answer(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [] } }));
    expect(await reply).toMatchObject({ result: { content: [] } });
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests[0]!.signal.aborted).toBe(false);
  });

  it('many requests in flight share the timer, each with its own deadline', async () => {
    const held = [heldBackend(), heldBackend(), heldBackend()];
    const replies = held.map((h, i) =>
      memberRequest(
        entry,
        h.backend,
        'tools/call',
        { name: `t${i}` },
        { identity, timeoutMs: 1000 * (i + 1) },
      ),
    );
    held[1]!.answer(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { n: 1 } }));
    await vi.advanceTimersByTimeAsync(1000 + TICK_MS);
    expect(held[0]!.requests[0]!.signal.aborted).toBe(true);
    expect(held[2]!.requests[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await Promise.all(replies)).toMatchObject([
      { error: { code: -32001, message: 'service "slowpoke" did not answer within 1s' } },
      { result: { n: 1 } },
      { error: { code: -32001, message: 'service "slowpoke" did not answer within 3s' } },
    ]);
    expect(held[2]!.requests[0]!.signal.aborted).toBe(true);
  });

  it('a backend that throws at once, or rejects, is a reply, and leaves no deadline behind', async () => {
    const throwing = inProcessBackend(() => {
      throw Object.assign(new Error('over the cap'), { code: -32005 });
    });
    const rejecting = inProcessBackend(() => Promise.reject(new Error('boom')));
    const opts = { identity, timeoutMs: 100 };
    expect(await memberRequest(entry, throwing, 'tools/call', {}, opts)).toEqual({
      error: { code: -32005, message: 'over the cap' },
    });
    expect(await memberRequest(entry, rejecting, 'tools/call', {}, opts)).toEqual({
      error: { code: -32000, message: 'service "slowpoke" failed' },
    });
  });
});
