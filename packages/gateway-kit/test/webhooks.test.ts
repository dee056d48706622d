import { createHmac } from 'node:crypto';
import { listen, type Listening } from '@mcp-gateway/testkit';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDispatcher, sanitize, signPayload, webhookKey } from '../src/ops/webhooks.js';
import type { WebhookConfig } from '../src/config/schema.js';

const servers: Listening[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const hook = (url: string, extra: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url,
  secret: 'a-long-webhook-secret',
  events: ['*'],
  includeArguments: false,
  maxAttempts: 3,
  timeout: 5,
  ...extra,
});

/**
 * A dispatcher whose one hook's receiver answers 503 forever and whose retries wait until
 * `release()`: its deliveries stay pending, so the queue's bounds can be reached.
 */
async function stalledDispatcher(
  extra: Partial<WebhookConfig>,
  opts: { maxPending?: number; maxPendingBytes?: number } = {},
) {
  const rx = await listen(() => new Response(null, { status: 503 }));
  servers.push(rx);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const outcomes: string[] = [];
  const d = new WebhookDispatcher({
    hooks: [hook(rx.url, { maxAttempts: 2, ...extra })],
    ...opts,
    sleep: () => gate,
    onDelivery: (o) => outcomes.push(o),
  });
  const count = (outcome: string) => outcomes.filter((o) => o === outcome).length;
  return { d, release, count };
}

describe('webhooks', () => {
  it('X-MCP-Signature is HMAC-SHA256 of the exact body with the hook secret', async () => {
    const got: { body: string; sig: string | null; event: string | null }[] = [];
    const rx = await listen(async (req) => {
      got.push({
        body: await req.text(),
        sig: req.headers.get('x-mcp-signature'),
        event: req.headers.get('x-mcp-event'),
      });
      return new Response(null, { status: 204 });
    });
    servers.push(rx);
    const d = new WebhookDispatcher({ hooks: [hook(`${rx.url}/h`)] });
    d.emit({ type: 'login', action: 'login.succeeded', data: { user: 'alice' } });
    await d.idle();
    expect(got).toHaveLength(1);
    const expected =
      'sha256=' + createHmac('sha256', 'a-long-webhook-secret').update(got[0]!.body).digest('hex');
    expect(got[0]!.sig).toBe(expected);
    expect(got[0]!.event).toBe('login');
    expect(JSON.parse(got[0]!.body)).toMatchObject({
      type: 'login',
      action: 'login.succeeded',
      data: { user: 'alice' },
    });
  });

  it('retries 5xx with backoff, then delivers; gives up on other 4xx at once', async () => {
    let calls = 0;
    const rx = await listen(() => new Response(null, { status: ++calls < 3 ? 503 : 200 }));
    servers.push(rx);
    const waits: number[] = [];
    const outcomes: string[] = [];
    const d = new WebhookDispatcher({
      hooks: [hook(rx.url)],
      sleep: async (ms) => void waits.push(ms),
      onDelivery: (o) => outcomes.push(o),
    });
    d.emit({ type: 'tool_call', action: 'tool.called', data: { service: 's', tool: 't' } });
    await d.idle();
    expect(calls).toBe(3);
    expect(waits).toEqual([1000, 2000]);
    expect(outcomes).toEqual(['retry', 'retry', 'delivered']);

    let bad = 0;
    const rx400 = await listen(() => new Response(null, { status: ++bad && 400 }));
    servers.push(rx400);
    const out2: string[] = [];
    const d2 = new WebhookDispatcher({
      hooks: [hook(rx400.url)],
      sleep: async () => {},
      onDelivery: (o) => out2.push(o),
    });
    d2.emit({ type: 'login', action: 'x', data: {} });
    await d2.idle();
    expect([bad, out2]).toEqual([1, ['failed']]);
  });

  it('an unreachable receiver is retried up to maxAttempts and never throws', async () => {
    const rx = await listen(() => new Response(null));
    const url = rx.url;
    await rx.close();
    const outcomes: string[] = [];
    const d = new WebhookDispatcher({
      hooks: [hook(url, { maxAttempts: 2 })],
      sleep: async () => {},
      onDelivery: (o) => outcomes.push(o),
    });
    d.emit({ type: 'login', action: 'x', data: {} });
    await d.idle();
    expect(outcomes).toEqual(['retry', 'failed']);
  });

  it('events are filtered by type; tokens never sent; tool arguments only when includeArguments', async () => {
    const bodies: Record<string, unknown>[] = [];
    const rx = await listen(async (req) => {
      bodies.push((await req.json()) as Record<string, unknown>);
      return new Response(null);
    });
    servers.push(rx);
    const d = new WebhookDispatcher({
      hooks: [
        hook(`${rx.url}/a`, { events: ['tool_call'] }),
        hook(`${rx.url}/b`, { events: ['tool_call'], includeArguments: true }),
      ],
    });
    d.emit({ type: 'login', action: 'login.succeeded', data: {} });
    d.emit({
      type: 'tool_call',
      action: 'tool.called',
      data: {
        tool: 'fetch',
        arguments: { url: 'http://x', api_token: 'T' },
        access_token: 'AT',
        nested: { refresh_token: 'RT' },
      },
    });
    await d.idle();
    const datas = bodies
      .map((b) => b.data)
      .sort((a, b) => JSON.stringify(a).length - JSON.stringify(b).length);
    expect(datas).toEqual([
      { tool: 'fetch', nested: {} },
      { tool: 'fetch', arguments: { url: 'http://x' }, nested: {} },
    ]);
    expect(JSON.stringify(bodies)).not.toMatch(/AT|RT|"T"/);
  });

  it('sanitize and signPayload are pure helpers', () => {
    expect(sanitize({ password: 'p', code: 'c', ok: 1 }, true)).toEqual({ ok: 1 });
    expect(signPayload('k', 'b')).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('standard webhooks: a Standard Webhooks library verifies each delivery, for whsec_ and plain secrets', async () => {
    const got: { path: string; body: string; headers: Record<string, string> }[] = [];
    const rx = await listen(async (req) => {
      const path = new URL(req.url).pathname;
      got.push({ path, body: await req.text(), headers: Object.fromEntries(req.headers) });
      return new Response(null, { status: 204 });
    });
    servers.push(rx);
    const whsec = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const d = new WebhookDispatcher({
      hooks: [hook(`${rx.url}/plain`), hook(`${rx.url}/whsec`, { secret: whsec })],
    });
    d.emit({ type: 'login', action: 'login.succeeded', data: { user: 'local:alice' } });
    await d.idle();
    expect(got.map((g) => g.path).sort()).toEqual(['/plain', '/whsec']);
    const receiverSecret: Record<string, string> = {
      // A plain secret is its UTF-8 bytes: the receiver's library gets it base64-encoded.
      '/plain': 'whsec_' + Buffer.from('a-long-webhook-secret').toString('base64'),
      '/whsec': whsec,
    };
    for (const g of got) {
      const verifier = new Webhook(receiverSecret[g.path]!);
      expect(verifier.verify(g.body, g.headers)).toMatchObject({ action: 'login.succeeded' });
      expect(g.headers['webhook-id']).toBe(JSON.parse(g.body).id);
    }
    expect(webhookKey(whsec).toString()).toBe('0123456789abcdef0123456789abcdef');
  });

  it('standard webhooks: a replayed delivery with an old timestamp is refused by the receiver', async () => {
    const got: { body: string; headers: Record<string, string> }[] = [];
    const rx = await listen(async (req) => {
      got.push({ body: await req.text(), headers: Object.fromEntries(req.headers) });
      return new Response(null, { status: 204 });
    });
    servers.push(rx);
    // The gateway's clock says an hour ago: the signature is valid, the timestamp is stale.
    const d = new WebhookDispatcher({
      hooks: [hook(rx.url)],
      now: () => new Date(Date.now() - 3600_000),
    });
    d.emit({ type: 'login', action: 'login.succeeded', data: {} });
    await d.idle();
    const verifier = new Webhook('whsec_' + Buffer.from('a-long-webhook-secret').toString('base64'));
    expect(() => verifier.verify(got[0]!.body, got[0]!.headers)).toThrow(WebhookVerificationError);
    // A tampered body fails too.
    const fresh = new WebhookDispatcher({ hooks: [hook(rx.url)] });
    fresh.emit({ type: 'login', action: 'x', data: {} });
    await fresh.idle();
    expect(() => verifier.verify(got[1]!.body.replace('"x"', '"y"'), got[1]!.headers)).toThrow(
      WebhookVerificationError,
    );
  });

  it('standard webhooks: retries keep the webhook-id and sign a fresh timestamp', async () => {
    const got: Record<string, string>[] = [];
    let calls = 0;
    const rx = await listen((req) => {
      got.push(Object.fromEntries(req.headers));
      return new Response(null, { status: ++calls < 2 ? 503 : 200 });
    });
    servers.push(rx);
    let t = Date.parse('2026-12-02T10:00:00Z');
    const d = new WebhookDispatcher({
      hooks: [hook(rx.url)],
      now: () => new Date(t),
      sleep: async (ms) => void (t += ms + 5000),
    });
    d.emit({ type: 'login', action: 'x', data: {} });
    await d.idle();
    expect(got).toHaveLength(2);
    expect(got[0]!['webhook-id']).toBe(got[1]!['webhook-id']);
    expect(Number(got[1]!['webhook-timestamp']) - Number(got[0]!['webhook-timestamp'])).toBe(6);
    expect(got[0]!['webhook-signature']).not.toBe(got[1]!['webhook-signature']);
  });

  it('the retry queue is bounded: events beyond maxPending are dropped and counted', async () => {
    const { d, release, count } = await stalledDispatcher({}, { maxPending: 10 });
    for (let i = 0; i < 50; i++) d.emit({ type: 'login', action: `a${i}`, data: {} });
    expect(d.pendingCount).toBe(10);
    expect(count('dropped')).toBe(40);
    release();
    await d.idle();
    expect(d.pendingCount).toBe(0);
    expect(count('failed')).toBe(10);
    // Room again once the queue drained.
    d.emit({ type: 'login', action: 'again', data: {} });
    expect(d.pendingCount).toBe(1);
    await d.idle();
  });

  it('the queue holds at most maxPendingBytes of bodies: large tool-call arguments cannot pile up', async () => {
    const { d, release, count } = await stalledDispatcher(
      { includeArguments: true, events: ['tool_call'] },
      { maxPendingBytes: 1024 * 1024 },
    );
    const big = 'x'.repeat(300 * 1024);
    for (let i = 0; i < 10; i++) {
      d.emit({ type: 'tool_call', action: 'tool.called', data: { user: `u${i}`, arguments: { big } } });
    }
    // Three bodies of ~300 KiB fit in 1 MiB; the other seven are dropped, whoever sent them.
    expect(d.pendingCount).toBe(3);
    expect(d.pendingByteCount).toBeGreaterThan(900 * 1024);
    expect(d.pendingByteCount).toBeLessThanOrEqual(1024 * 1024);
    expect(count('dropped')).toBe(7);
    // A small event still fits.
    d.emit({ type: 'tool_call', action: 'tool.called', data: { user: 'small' } });
    expect(d.pendingCount).toBe(4);
    release();
    await d.idle();
    expect(d.pendingCount).toBe(0);
    expect(d.pendingByteCount).toBe(0);
  });

  it("one user's events hold at most maxPendingPerUser deliveries: others' events still get in", async () => {
    const { d, release, count } = await stalledDispatcher({}, { maxPending: 100 });
    for (let i = 0; i < 50; i++) {
      d.emit({ type: 'tool_call', action: 'tool.called', data: { user: 'noisy', tool: 't' } });
    }
    // The default share is a tenth of maxPending.
    expect(d.pendingCount).toBe(10);
    expect(count('dropped')).toBe(40);
    d.emit({ type: 'login', action: 'login.succeeded', data: { user: 'quiet' } });
    d.emit({ type: 'login', action: 'login.failed', data: {} });
    expect(d.pendingCount).toBe(12);
    release();
    await d.idle();
    // The share is given back as deliveries end.
    d.emit({ type: 'tool_call', action: 'tool.called', data: { user: 'noisy', tool: 't' } });
    expect(d.pendingCount).toBe(1);
    await d.idle();
  });
});
