import type { ServerResponse } from 'node:http';
import { listenNode, type Listening } from '@mcp-gateway/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetchServer, silentLogger, toNodeListener, type FetchServerOptions } from '../src/index.js';
import { MCP_HEADERS, rawRequest, toolText } from './helpers/http.js';

// The bounds on outgoing fetches in flight (`maxConcurrentFetchesPerCaller`, `maxConcurrentFetches`):
// a loopback target holds every response until the test releases it, so fetches stay in flight.

const USER_HEADER = 'x-test-user';
const PER_CALLER_REFUSAL = /^Too many fetches in progress for this caller \(at most 2 at once\)/;
const OVERALL_REFUSAL = /^The fetch server is busy \(at most 3 fetches at once\)/;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A target that holds each request until `releaseAll`, and tells of arrivals as they happen. */
async function startHoldingTarget() {
  const held: ServerResponse[] = [];
  let arrivals = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const closedWaiters: (() => void)[] = [];
  const l = await listenNode((req, res) => {
    arrivals++;
    held.push(res);
    req.socket.once('close', () => closedWaiters.splice(0).forEach((r) => r()));
    for (const w of waiters.filter((w) => arrivals >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  cleanups.push(() => l.close());
  return {
    url: `${l.url}/page`,
    get arrivals() {
      return arrivals;
    },
    /** Resolves once `n` requests have arrived in all. */
    arrived(n: number): Promise<void> {
      if (arrivals >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    /** Resolves when the next held connection closes. */
    nextClose(): Promise<void> {
      return new Promise((resolve) => closedWaiters.push(resolve));
    },
    releaseAll(): void {
      for (const res of held.splice(0)) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('released page');
      }
    },
  };
}

/**
 * The fetch server behind a node edge that names the caller from a test header, as a host that
 * authenticated its users does (the gateway passes `identity.sub`). `ended(n)` resolves once `n`
 * tool fetches have ended (the observer is told after the slot is released).
 */
async function startServer(options: FetchServerOptions = {}) {
  let ended = 0;
  const endWaiters: { n: number; resolve: () => void }[] = [];
  const handler = createFetchServer({
    allowHosts: ['127.0.0.1'],
    ignoreRobotsTxt: true,
    logger: silentLogger,
    maxConcurrentFetchesPerCaller: 2,
    maxConcurrentFetches: 3,
    observeFetch: () => () => {
      ended++;
      for (const w of endWaiters.filter((w) => ended >= w.n)) {
        endWaiters.splice(endWaiters.indexOf(w), 1);
        w.resolve();
      }
    },
    ...options,
  });
  const l: Listening = await listenNode(
    toNodeListener((request, info) => {
      const caller = request.headers.get(USER_HEADER) ?? undefined;
      return handler(request, caller === undefined ? info : { ...info, caller });
    }),
  );
  cleanups.push(async () => (await handler.close(), l.close()));
  return {
    mcpUrl: `${l.url}/mcp`,
    limiter: handler.core.limiter,
    ended(n: number): Promise<void> {
      if (ended >= n) return Promise.resolve();
      return new Promise((resolve) => endWaiters.push({ n, resolve }));
    },
  };
}

/** A 2025-era SDK client; `user` is sent in the test header the edge above turns into the caller. */
async function connect(mcpUrl: string, user?: string) {
  const client = new Client({ name: 'limit-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: user === undefined ? {} : { headers: { [USER_HEADER]: user } },
  });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

const callFetch = (client: Client, url: string, options?: { signal?: AbortSignal }) =>
  client.callTool({ name: 'fetch', arguments: { url } }, undefined, options) as Promise<CallToolResult>;

/** The headers and body of a 2026-07-28 tools/call of fetch for `url`, as `user`. */
const request2026 = (url: string, user: string) => ({
  method: 'POST',
  headers: {
    ...MCP_HEADERS,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'fetch',
    [USER_HEADER]: user,
  },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: {
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
      name: 'fetch',
      arguments: { url },
    },
  }),
});

/** One 2026-07-28 tools/call of fetch, raw on the wire, as `user`. */
async function call2026(mcpUrl: string, url: string, user: string) {
  const res = await rawRequest(mcpUrl, request2026(url, user));
  // Plain JSON, or (jsonResponse: false) an SSE stream whose last data line is the answer.
  const data = res.body.startsWith('{') ? res.body : /^data: (.*)$/m.exec(res.body)?.[1];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a raw JSON-RPC body; the assertions check its shape
  return { status: res.status, json: JSON.parse(data ?? 'null') as Record<string, any> };
}

type Target = Awaited<ReturnType<typeof startHoldingTarget>>;

/** `call` reaches the target (its `n`th request in all) and, released, succeeds: the caller had a slot. */
async function fetchesThrough(target: Target, n: number, call: () => Promise<CallToolResult>) {
  const pending = call();
  await target.arrived(n);
  target.releaseAll();
  const result = await pending;
  expect(result.isError).toBeFalsy();
  expect(toolText(result)).toContain('released page');
}

/** Fills `caller`'s slots (2) and checks its next call is refused with the per-caller message. */
async function fillAndRefuse(target: Target, caller: Client) {
  const held = [callFetch(caller, target.url), callFetch(caller, target.url)];
  await target.arrived(2);
  const refused = await callFetch(caller, target.url);
  expect(refused.isError).toBe(true);
  expect(toolText(refused)).toMatch(PER_CALLER_REFUSAL);
  return held;
}

describe('fetches in flight per caller', () => {
  it('the caller named by the host: its extra fetch is refused with isError, another caller still fetches, and the slots come back', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ maxConcurrentFetches: 64 });
    const alice = await connect(server.mcpUrl, 'alice');
    const bob = await connect(server.mcpUrl, 'bob');

    // Stateless 2025: each call is its own HTTP request and MCP server; the identity joins them.
    const held = await fillAndRefuse(target, alice);
    expect(server.limiter.inFlightFor('user:alice')).toBe(2);
    // The 2026-07-28 wire counts against the same caller: a result with isError, not a JSON-RPC error.
    const refused2026 = await call2026(server.mcpUrl, target.url, 'alice');
    expect(refused2026.status).toBe(200);
    expect(refused2026.json.error).toBeUndefined();
    expect(refused2026.json.result).toMatchObject({ isError: true });
    expect(refused2026.json.result.content[0].text).toMatch(PER_CALLER_REFUSAL);
    // The prompt fetches too, under the same bound: the refusal is its message.
    const prompt = await alice.getPrompt({ name: 'fetch', arguments: { url: target.url } });
    expect(prompt.messages[0]!.content).toMatchObject({ text: expect.stringMatching(PER_CALLER_REFUSAL) });
    expect(target.arrivals).toBe(2); // nothing refused reached the target

    await fetchesThrough(target, 3, () => callFetch(bob, target.url)); // releases alice's too
    for (const r of await Promise.all(held)) expect(toolText(r)).toContain('released page');
    expect(server.limiter.inFlight).toBe(0);

    // Slots came back: alice fetches again.
    await fetchesThrough(target, 4, () => callFetch(alice, target.url));
  });

  it('without a named caller, each stateful session is a caller', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ stateful: true, maxConcurrentFetches: 64 });
    const first = await connect(server.mcpUrl);
    const second = await connect(server.mcpUrl);

    const held = await fillAndRefuse(target, first);
    await fetchesThrough(target, 3, () => callFetch(second, target.url));
    for (const r of await Promise.all(held)) expect(r.isError).toBeFalsy();
    await fetchesThrough(target, 4, () => callFetch(first, target.url));
  });

  it('without a named caller, a stateless JSON-RPC batch is one caller', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ maxConcurrentFetches: 64 });
    const call = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'fetch', arguments: { url: target.url } },
    });
    const batch = rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify([call(1), call(2), call(3)]),
    });
    await target.arrived(2);
    target.releaseAll();
    const answers = JSON.parse((await batch).body) as { id: number; result: CallToolResult }[];
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    const refusals = answers.filter((a) => a.result.isError);
    expect(refusals).toHaveLength(1);
    expect(toolText(refusals[0]!.result)).toMatch(PER_CALLER_REFUSAL);
    expect(target.arrivals).toBe(2);
  });
});

describe('fetches in flight overall', () => {
  it('past maxConcurrentFetches every caller is refused until a fetch ends', async () => {
    const target = await startHoldingTarget();
    const server = await startServer();
    const alice = await connect(server.mcpUrl, 'alice');
    const bob = await connect(server.mcpUrl, 'bob');
    const carol = await connect(server.mcpUrl, 'carol');

    const held = [callFetch(alice, target.url), callFetch(alice, target.url), callFetch(bob, target.url)];
    await target.arrived(3);
    expect(server.limiter.inFlight).toBe(3);
    const refused = await callFetch(carol, target.url); // carol has none in flight
    expect(refused.isError).toBe(true);
    expect(toolText(refused)).toMatch(OVERALL_REFUSAL);
    const refused2026 = await call2026(server.mcpUrl, target.url, 'bob');
    expect(refused2026.json.result).toMatchObject({ isError: true });
    expect(refused2026.json.result.content[0].text).toMatch(OVERALL_REFUSAL);
    expect(target.arrivals).toBe(3);

    target.releaseAll();
    for (const r of await Promise.all(held)) expect(r.isError).toBeFalsy();
    await fetchesThrough(target, 4, () => callFetch(carol, target.url));
  });
});

describe('slots come back when a fetch does not complete', () => {
  it('after a timed-out fetch', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ maxConcurrentFetchesPerCaller: 1, timeoutMs: 300 });
    const alice = await connect(server.mcpUrl, 'alice');

    const timedOut = await callFetch(alice, target.url); // the target never answers it
    expect(timedOut.isError).toBe(true);
    expect(toolText(timedOut)).toMatch(/timed out|timeout/i);
    expect(server.limiter.inFlight).toBe(0);
    await fetchesThrough(target, 2, () => callFetch(alice, target.url));
  });

  it('after the client cancels the call (notifications/cancelled, stateful 2025)', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ stateful: true, maxConcurrentFetchesPerCaller: 1 });
    const alice = await connect(server.mcpUrl, 'alice');

    const aborter = new AbortController();
    const cancelled = callFetch(alice, target.url, { signal: aborter.signal });
    await target.arrived(1);
    expect(server.limiter.inFlightFor('user:alice')).toBe(1);
    const closed = target.nextClose();
    aborter.abort();
    await expect(cancelled).rejects.toThrow();
    await closed; // the server dropped the target connection
    await server.ended(1); // and the tool's fetch ended (told after the slot is released)
    expect(server.limiter.inFlight).toBe(0);
    await fetchesThrough(target, 2, () => callFetch(alice, target.url));
  });

  it('after the 2026-07-28 client closes the response', async () => {
    const target = await startHoldingTarget();
    const server = await startServer({ maxConcurrentFetchesPerCaller: 1, jsonResponse: false });
    const aborter = new AbortController();
    const call = fetch(server.mcpUrl, { ...request2026(target.url, 'alice'), signal: aborter.signal }).catch(
      () => undefined,
    );
    await target.arrived(1);
    expect(server.limiter.inFlightFor('user:alice')).toBe(1);
    aborter.abort();
    await call;
    await server.ended(1);
    expect(server.limiter.inFlight).toBe(0);

    const again = call2026(server.mcpUrl, target.url, 'alice');
    await target.arrived(2);
    target.releaseAll();
    expect((await again).json.result).toMatchObject({
      content: [{ text: expect.stringContaining('released page') }],
    });
    expect((await again).json.result.isError).toBeFalsy();
  });
});
