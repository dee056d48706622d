import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@mcp-gateway/testkit';
import { closeAll, startBridge } from './helpers.js';
import { call2026, readSse, send2026 } from './modern-helpers.js';

// 2026-07-28 subscriptions/listen over 2025 children: ack first, subscription id on every
// notification, the filter honoured, bounded per user.

afterEach(closeAll);

const SSE = { accept: 'text/event-stream' };
const SUB = 'io.modelcontextprotocol/subscriptionId';

/** Opens a listen stream; `next()` resolves with each message as it arrives. */
async function listen(
  url: string,
  notifications: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const ac = new AbortController();
  const res = await send2026(
    url,
    'subscriptions/listen',
    { notifications },
    { ...SSE, ...headers },
    { signal: ac.signal, id: 'sub-1' },
  );
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  const done = readSse(res, (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  }).catch(() => []);
  return {
    res,
    done,
    next: () =>
      new Promise<Record<string, unknown>>((resolve) =>
        queue.length ? resolve(queue.shift()!) : waiters.push(resolve),
      ),
    close: () => ac.abort(),
  };
}

const change = (url: string, kind: 'tool' | 'prompt', headers: Record<string, string> = {}) =>
  call2026(url, 'tools/call', { name: 'change-list', arguments: { kind } }, headers);

describe('subscriptions/listen', () => {
  it('acknowledges first (agreed filter + subscription id), then forwards list_changed tagged with the id', async () => {
    const b = await startBridge();
    const l = await listen(b.mcpUrl, {
      toolsListChanged: true,
      resourceSubscriptions: ['fixture://greeting'],
    });
    expect(l.res.status).toBe(200);
    const ack = await l.next();
    expect(ack).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { toolsListChanged: true }, _meta: { [SUB]: 'sub-1' } },
    });
    expect((ack.params as { notifications: object }).notifications).toEqual({ toolsListChanged: true });
    await change(b.mcpUrl, 'tool');
    expect(await l.next()).toMatchObject({
      method: 'notifications/tools/list_changed',
      params: { _meta: { [SUB]: 'sub-1' } },
    });
    l.close();
  });

  it('the filter holds: a prompts-only stream never sees tools/list_changed', async () => {
    const b = await startBridge();
    const l = await listen(b.mcpUrl, { promptsListChanged: true });
    await l.next(); // ack
    await change(b.mcpUrl, 'tool');
    await change(b.mcpUrl, 'prompt');
    // Had the tool change leaked, it would come first (one child, ordered stdout).
    expect((await l.next()).method).toBe('notifications/prompts/list_changed');
    l.close();
  });

  it('another user\u2019s changes never reach a stream', async () => {
    const b = await startBridge({ identity: 'x-user' });
    const l = await listen(
      b.mcpUrl,
      { toolsListChanged: true, promptsListChanged: true },
      { 'x-user': 'bob' },
    );
    await l.next();
    await change(b.mcpUrl, 'prompt', { 'x-user': 'alice' });
    await change(b.mcpUrl, 'tool', { 'x-user': 'bob' });
    expect((await l.next()).method).toBe('notifications/tools/list_changed');
    l.close();
  });

  it('a filter the server cannot honour is acknowledged empty and the stream ends', async () => {
    const b = await startBridge();
    const l = await listen(b.mcpUrl, { resourceSubscriptions: ['fixture://greeting'] });
    const msgs = await l.done;
    expect(msgs[0]).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: {} },
    });
    expect(msgs[1]).toMatchObject({ id: 'sub-1', result: { _meta: { [SUB]: 'sub-1' } } });
  });

  it('bad inputs: no filter is 400 -32602; without Accept text/event-stream 406', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'subscriptions/listen', {}, SSE);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32602);
    const r2 = await call2026(b.mcpUrl, 'subscriptions/listen', {
      notifications: { toolsListChanged: true },
    });
    expect(r2.status).toBe(406);
  });

  it('bound: beyond maxListenersPerUser open streams the user gets 429', async () => {
    const b = await startBridge({ modern: { maxListenersPerUser: 1 } });
    const l = await listen(b.mcpUrl, { toolsListChanged: true });
    await l.next();
    const r = await call2026(
      b.mcpUrl,
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      SSE,
    );
    expect(r.status).toBe(429);
    l.close();
  });

  it('bound: beyond maxListeners open streams (all users) anyone gets 503 with Retry-After; a closed stream frees its slot', async () => {
    const b = await startBridge({
      identity: 'x-user',
      retryAfterSeconds: 3,
      modern: { maxListeners: 2, maxListenersPerUser: 4 },
    });
    const alice = await listen(b.mcpUrl, { toolsListChanged: true }, { 'x-user': 'alice' });
    const bob = await listen(b.mcpUrl, { toolsListChanged: true }, { 'x-user': 'bob' });
    await Promise.all([alice.next(), bob.next()]);
    // Carol has no stream (her own cap is far), but the bridge's is reached.
    const filter = { notifications: { toolsListChanged: true } };
    const carolHeaders = { ...SSE, 'x-user': 'carol' };
    const refused = await send2026(b.mcpUrl, 'subscriptions/listen', filter, carolHeaders, { id: 'carol-1' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 'carol-1',
      error: { code: -32603, message: expect.stringMatching(/too many subscriptions\/listen streams/) },
    });
    // Alice leaves: once the bridge sees it, carol gets her stream; the bound holds again after.
    alice.close();
    const carol = await waitFor(async () => {
      const res = await send2026(b.mcpUrl, 'subscriptions/listen', filter, carolHeaders, { id: 'carol-2' });
      if (res.status === 200) return res;
      await res.text();
      return undefined;
    });
    const again = await send2026(b.mcpUrl, 'subscriptions/listen', filter, carolHeaders, { id: 'carol-3' });
    expect(again.status).toBe(503);
    await again.text();
    await carol?.body?.cancel();
    bob.close();
  });
});
