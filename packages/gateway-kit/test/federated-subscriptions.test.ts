// Issue 20, resource subscriptions on a federated endpoint: the testkit's stdio fixture (real
// children; `fixture://watched` is a file every child watches once subscribed, and its `touch`
// tool writes that file) behind federated endpoints of a real gateway on 127.0.0.1. The MCP SDK
// 1.x client subscribes in its 2025 session and hears `notifications/resources/updated` on its GET
// stream; a raw 2026-07-28 `subscriptions/listen` with `resourceSubscriptions` hears it on its
// stream. Member sessions are held only while subscribed; the bounds and unknown URIs are errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ManualClock } from '@mcp-gateway/oauth-dynamicclient';
import { fixtureMcpServerCommand, request2026 } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';
import { legacyMcpServer, type LegacyServer } from './helpers/legacy-mcp-server.js';
import { sseMessages } from './helpers/sse-messages.js';

const WATCHED = 'fixture://watched';
const SUB = 'io.modelcontextprotocol/subscriptionId';
const ENDPOINTS = ['/mcp', '/tiny', '/static'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

let gw: Gateway;
let base: string;
let dir: string;
/** A member only bob may use, with a resource of its own. */
let secret: LegacyServer;
const tokens: Partial<Record<Endpoint, string>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fed-subs-'));
  secret = await legacyMcpServer((mcp) => {
    mcp.registerResource('doc', 'secret://doc', {}, (uri) => ({ contents: [{ uri: uri.href, text: 's' }] }));
  });
  ({ gw, url: base } = await listeningGateway({
    services: {
      fetch: { type: 'fetch', allowHosts: ['127.0.0.1'], ignoreRobotsTxt: true },
      fixture: {
        type: 'stdio',
        ...fixtureMcpServerCommand(),
        env: { FIXTURE_WATCH_FILE: join(dir, 'watched.txt') },
      },
      secret: { type: 'http', url: `${secret.url}/mcp`, users: ['local:bob'] },
    },
    federated: [
      { path: '/mcp', services: ['fetch', 'fixture', 'secret'], maxSubscriptionsPerSession: 2 },
      { path: '/tiny', services: ['fixture'], maxSubscriptions: 1 },
      { path: '/static', services: ['fetch'] },
    ],
  }));
  await gw.users.put('alice', 'alice-password-1');
  for (const e of ENDPOINTS) tokens[e] = (await issueToken(gw, 'alice', e)).access_token;
});

afterAll(async () => {
  await secret?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const auth = (endpoint: Endpoint) => ({ authorization: `Bearer ${tokens[endpoint]}` });

/** 2025 sessions the fixture's bridge holds (each federated subscriber's member session is one). */
const memberSessions = () => gw.services.backend(gw.services.get('fixture')!).sessions!();

/**
 * An SDK 1.x client in a 2025 session of `endpoint` (of the file's gateway, or of the gateway at
 * `at.url` with `at.token`), counting the updates its GET stream brings.
 */
async function sdkClient(endpoint: string, at = { url: base, token: tokens[endpoint as Endpoint]! }) {
  const client = new Client({ name: 'sdk1', version: '1' });
  const updates: string[] = [];
  const waiters: Array<() => void> = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
    for (const w of waiters.splice(0)) w();
  });
  let opened!: () => void;
  const streamOpen = new Promise<void>((resolve) => (opened = resolve));
  const transport = new StreamableHTTPClientTransport(new URL(`${at.url}${endpoint}`), {
    requestInit: { headers: { authorization: `Bearer ${at.token}` } },
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      if (init?.method === 'GET') opened();
      return res;
    },
  });
  await client.connect(transport);
  await streamOpen;
  /** Resolves at the next update. */
  const next = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { client, transport, updates, next };
}

const touch = (client: Client, text: string) => client.callTool({ name: 'touch', arguments: { text } });

/** The JSON-RPC error code a client request fails with. */
async function codeOf(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(McpError);
  return (err as McpError).code;
}

describe('federated resource subscriptions', () => {
  it('declares resources.subscribe only when a member offers it', async () => {
    const { client } = await sdkClient('/mcp');
    expect(client.getServerCapabilities()?.resources?.subscribe).toBe(true);
    await client.close();
    const fixed = new Client({ name: 'sdk1', version: '1' });
    await fixed.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/static`), {
        requestInit: { headers: auth('/static') },
      }),
    );
    expect(fixed.getServerCapabilities()?.resources?.subscribe).toBe(false);
    await fixed.close();
  });

  it('2025 session (SDK 1.x): subscribe, an update reaches the GET stream; unsubscribe stops it and ends the member session', async () => {
    const before = memberSessions();
    const a = await sdkClient('/mcp');
    const b = await sdkClient('/mcp');
    await a.client.subscribeResource({ uri: WATCHED });
    await b.client.subscribeResource({ uri: WATCHED });
    // One member session per subscriber and member.
    expect(memberSessions()).toBe(before + 2);
    const heard = Promise.all([a.next(), b.next()]);
    await touch(a.client, 'one');
    await heard;
    expect(a.updates).toContain(WATCHED);
    expect(b.updates).toContain(WATCHED);
    expect((await a.client.readResource({ uri: WATCHED })).contents[0]).toMatchObject({ text: 'one' });

    await a.client.unsubscribeResource({ uri: WATCHED });
    // Its last subscription there gone, the member session is ended (DELETE).
    await vi.waitFor(() => expect(memberSessions()).toBe(before + 1));
    const heardByA = a.updates.length;
    const heardByB = b.updates.length;
    const again = b.next();
    await touch(a.client, 'two');
    await again;
    // b, still subscribed, heard the second write; a did not.
    expect(b.updates.length).toBeGreaterThan(heardByB);
    expect(a.updates.length).toBe(heardByA);

    // The session's end releases the rest.
    await b.transport.terminateSession();
    await vi.waitFor(() => expect(memberSessions()).toBe(before));
    await a.client.close();
    await b.client.close();
  });

  it('a member session the member ends (its idle timeout) is opened again and the URI subscribed again', async () => {
    // A gateway of its own on a clock the test moves (its bridge's idle sweep and the endpoint's
    // age check of a lost member session run on it; the file's other sessions stay out of it).
    const clock = new ManualClock();
    const brief = await listeningGateway(
      {
        services: {
          // Its bridge ends sessions idle for 2 s: the member session a subscription holds too.
          brief: {
            type: 'stdio',
            ...fixtureMcpServerCommand(),
            env: { FIXTURE_WATCH_FILE: join(dir, 'brief.txt') },
            sessionTimeout: 2,
          },
        },
        federated: [{ path: '/brief', services: ['brief'] }],
      },
      {},
      { clock },
    );
    await brief.gw.users.put('alice', 'alice-password-1');
    const token = (await issueToken(brief.gw, 'alice', '/brief')).access_token;
    const stats = () => brief.gw.services.backend(brief.gw.services.get('brief')!).stdioStats!();
    const { client, updates } = await sdkClient('/brief', { url: brief.url, token });
    await client.subscribeResource({ uri: WATCHED });
    const before = stats();
    expect(before.sessions).toBe(1);
    // 2 s on: the bridge ends the idle member session, and the endpoint opens another.
    clock.advance(2000);
    await vi.waitFor(() => {
      expect(stats().sessionsClosed).toBe(before.sessionsClosed + 1);
      expect(stats().sessionsOpened).toBe(before.sessionsOpened + 1);
    });
    // Once subscribed again there, a write is heard.
    await vi.waitFor(
      async () => {
        await touch(client, 'again');
        expect(updates).toContain(WATCHED);
      },
      { timeout: 10_000, interval: 200 },
    );
    await client.close();
  });

  it('an unknown URI, and one of a member the user may not use, is -32002 (resource not found)', async () => {
    const { client } = await sdkClient('/mcp');
    expect(await codeOf(client.subscribeResource({ uri: 'fixture://nope' }))).toBe(-32002);
    expect(await codeOf(client.subscribeResource({ uri: 'secret://doc' }))).toBe(-32002);
    // The member only bob may use was never asked.
    expect(secret.opened).toHaveLength(0);
    await client.close();
  });

  it('bounded per session: past maxSubscriptionsPerSession is -32000; a template-matched URI counts', async () => {
    const before = memberSessions();
    const { client, transport } = await sdkClient('/mcp');
    await client.subscribeResource({ uri: WATCHED });
    await client.subscribeResource({ uri: 'fixture://items/alpha' });
    // Subscribing again to a URI held is not another subscription.
    await client.subscribeResource({ uri: WATCHED });
    expect(await codeOf(client.subscribeResource({ uri: 'fixture://greeting' }))).toBe(-32000);
    // Both URIs share one member session.
    expect(memberSessions()).toBe(before + 1);
    await transport.terminateSession();
    await vi.waitFor(() => expect(memberSessions()).toBe(before));
    await client.close();
  });

  it('bounded per session under concurrency: of three subscribes at once, one is -32000', async () => {
    const before = memberSessions();
    const { client, transport } = await sdkClient('/mcp');
    const uris = [WATCHED, 'fixture://greeting', 'fixture://items/gamma'];
    const settled = await Promise.allSettled(uris.map((uri) => client.subscribeResource({ uri })));
    const refused = settled.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(((refused[0] as PromiseRejectedResult).reason as McpError).code).toBe(-32000);
    // The member took the two others in one session of this subscriber.
    expect(memberSessions()).toBe(before + 1);
    await transport.terminateSession();
    await vi.waitFor(() => expect(memberSessions()).toBe(before));
    await client.close();
  });

  it('bounded per endpoint: past maxSubscriptions is -32000 until one is released', async () => {
    const first = await sdkClient('/tiny');
    const second = await sdkClient('/tiny');
    await first.client.subscribeResource({ uri: WATCHED });
    expect(await codeOf(second.client.subscribeResource({ uri: WATCHED }))).toBe(-32000);
    await first.client.unsubscribeResource({ uri: WATCHED });
    await second.client.subscribeResource({ uri: WATCHED });
    await first.client.close();
    await second.client.close();
  });

  it('2026-07-28: subscriptions/listen with resourceSubscriptions acknowledges the URIs taken (known, within the bound) and carries their updates', async () => {
    const before = memberSessions();
    const listen = request2026(
      'subscriptions/listen',
      {
        notifications: {
          resourceSubscriptions: [WATCHED, 'fixture://nope', 'fixture://greeting', 'fixture://items/beta'],
        },
      },
      { id: 7 },
    );
    const ac = new AbortController();
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp'), ...listen.headers },
      body: listen.body,
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = sseMessages(res.body!);
    const ack = (await events.next()).value as { method: string; params: Record<string, unknown> };
    expect(ack.method).toBe('notifications/subscriptions/acknowledged');
    // The unknown URI, and the one past maxSubscriptionsPerSession (2), are left out of what is honoured.
    expect(ack.params).toEqual({
      notifications: { resourceSubscriptions: [WATCHED, 'fixture://greeting'] },
      _meta: { [SUB]: 7 },
    });
    expect(memberSessions()).toBe(before + 1);

    const call = request2026('tools/call', { name: 'touch', arguments: { text: 'three' } }, { id: 8 });
    const called = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp'), ...call.headers },
      body: call.body,
    });
    expect(await called.text()).toContain('touched');
    const update = (await events.next()).value as { method: string; params: Record<string, unknown> };
    expect(update).toMatchObject({
      method: 'notifications/resources/updated',
      params: { uri: WATCHED, _meta: { [SUB]: 7 } },
    });
    // The stream's end releases its subscriptions.
    ac.abort();
    await events.return(undefined);
    await vi.waitFor(() => expect(memberSessions()).toBe(before));
  });

  it('2026-07-28: a listen whose resource subscriptions are all refused is acknowledged empty and ends at once', async () => {
    const listen = request2026('subscriptions/listen', {
      notifications: { resourceSubscriptions: ['fixture://nope', 'secret://doc'] },
    });
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp'), ...listen.headers },
      body: listen.body,
    });
    const messages: unknown[] = [];
    for await (const m of sseMessages(res.body!)) messages.push(m);
    expect(messages).toMatchObject([
      { method: 'notifications/subscriptions/acknowledged', params: { notifications: {} } },
      { id: 1, result: { resultType: 'complete' } },
    ]);
  });

  it('2026-07-28: resources/subscribe is not a method (subscriptions ride on subscriptions/listen)', async () => {
    const req = request2026('resources/subscribe', { uri: WATCHED });
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...auth('/mcp'), ...req.headers },
      body: req.body,
    });
    const body = (await res.json()) as { error: { code: number } };
    expect(body.error.code).toBe(-32601);
  });
});
