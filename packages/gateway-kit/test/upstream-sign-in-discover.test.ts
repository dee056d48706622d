// Upstream sign-in on the 2026-07-28 wire for a user who never connected the upstream: no input may
// be asked on `server/discover` or a list (MRTR is for calls only), and the legacy `-32000` range is
// not for 2026-07-28. So the client can discover the service (the upstream's public answer when the
// gateway saw one, else a stand-in), is asked to connect on its first call (URL elicitation), and
// the retry completes once the user has connected. What cannot be served is `-32600` naming the
// connect page. A real gateway on 127.0.0.1 per test, a stub OAuth upstream (fetch-server behind
// its own authorization server), the pages driven over HTTP; a raw 2026 client and the MCP SDK 2.x
// client, in auto mode and pinned to 2026-07-28.
import {
  Client as ClientV2,
  ProtocolError,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { listeningGateway } from './helpers/listening.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';
import { connectThroughPages } from './helpers/upstream-connect.js';

const ISSUER = 'http://127.0.0.1:8080';
const CONNECT_URL = `${ISSUER}/account/upstream/connect?service=remote`;
const URL_MODE = { elicitation: { url: {} } };
/** The legacy sub-range 2026-07-28 implementations should not use (basic, "Error Codes"). */
const LEGACY = { from: -32019, to: -32000 };

let up: OAuthUpstream;
let page: Listening;

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  up = await startOAuthUpstream('up');
});

afterAll(async () => {
  await up?.close();
  await page?.close();
});

/** A gateway of its own (nothing seen from the upstream yet) with the oauth service `remote`. */
async function freshGateway(): Promise<{
  gw: Gateway;
  base: string;
  token: (user: string) => Promise<string>;
}> {
  const { gw, url } = await listeningGateway({
    issuer: ISSUER,
    services: { remote: { type: 'http', url: up.resource, credentials: { type: 'oauth' } } },
  });
  for (const user of ['alice', 'bob']) await gw.users.put(user, `${user}-password-1`);
  const token = async (user: string) => (await issueToken(gw, user, 'remote')).access_token;
  return { gw, base: url, token };
}

interface Answer {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A raw 2026-07-28 request with `token` to the `remote` service of the gateway at `base`. */
async function post2026(
  base: string,
  token: string,
  method: string,
  params: Record<string, unknown> = {},
  id: number | string = 1,
  /** A query for the endpoint's URL (`?…`), which the upstream gets too. */
  query = '',
): Promise<Answer> {
  const { body, headers } = request2026(method, params, { capabilities: URL_MODE, id });
  const res = await fetch(`${base}/remote/mcp${query}`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
    body,
  });
  return { status: res.status, ...((await res.json()) as Omit<Answer, 'status'>) };
}

const FETCH_CALL = () => ({ name: 'fetch', arguments: { url: `${page.url}/` } });

/** An SDK 2.x client of `remote` whose elicitation handler has the user connect on the gateway's pages. */
function sdkClient(
  gw: Gateway,
  user: string,
  mode: 'auto' | { pin: string },
): { client: ClientV2; asked: Record<string, unknown>[] } {
  const client = new ClientV2(
    { name: 'sdk2', version: '1' },
    { capabilities: URL_MODE, versionNegotiation: { mode } },
  );
  const asked: Record<string, unknown>[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params);
    // The user opens the URL in a browser and connects; the client retries.
    await connectThroughPages(gw, user, (request.params as { url: string }).url);
    return { action: 'accept' };
  });
  return { client, asked };
}

describe('upstream sign-in, 2026-07-28: a user who never connected discovers the service and is asked to connect on a call', () => {
  it('server/discover on a gateway that has seen no answer of the upstream: a stand-in DiscoverResult (the modern revisions, tools, prompts and resources, the service as title, not cached); nothing is sent upstream', async () => {
    const { base, token } = await freshGateway();
    const before = up.mcpBodies.length;
    const a = await post2026(base, await token('alice'), 'server/discover', {}, 'd-1');
    expect(a).toEqual({
      status: 200,
      jsonrpc: '2.0',
      id: 'd-1',
      result: {
        resultType: 'complete',
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: {}, prompts: {}, resources: {} },
        ttlMs: 0,
        cacheScope: 'private',
        _meta: {
          'io.modelcontextprotocol/serverInfo': {
            name: 'mcp-gateway',
            title: 'remote',
            version: expect.any(String),
          },
        },
      },
    });
    expect(up.mcpBodies.length).toBe(before);
  });

  it('the lists, subscriptions/listen and completion/complete, with no public answer seen: -32600 naming the connect page, never a code of the legacy range', async () => {
    const { base, token } = await freshGateway();
    const alice = await token('alice');
    const before = up.mcpBodies.length;
    for (const [method, params] of [
      ['tools/list', {}],
      ['prompts/list', {}],
      ['resources/list', {}],
      ['resources/templates/list', {}],
      ['subscriptions/listen', { notifications: { toolsListChanged: true } }],
      [
        'completion/complete',
        { ref: { type: 'ref/prompt', name: 'fetch' }, argument: { name: 'url', value: 'h' } },
      ],
    ] as const) {
      const a = await post2026(base, alice, method, params);
      expect([method, a.status, a.error?.code]).toEqual([method, 200, -32600]);
      expect(a.error!.code < LEGACY.from || a.error!.code > LEGACY.to).toBe(true);
      expect(a.error?.message, method).toContain(CONNECT_URL);
    }
    expect(up.mcpBodies.length).toBe(before);
  });

  it("a connected user's server/discover and tools/list the upstream marked public are given to a user who never connected (ttlMs: the time left), nothing sent upstream; another page of the list, or a list not seen, is -32600", async () => {
    const { gw, base, token } = await freshGateway();
    const [alice, bob] = [await token('alice'), await token('bob')];
    await connectThroughPages(gw, 'alice', CONNECT_URL);
    const seen = {
      discover: await post2026(base, alice, 'server/discover'),
      tools: await post2026(base, alice, 'tools/list'),
    };
    expect(seen.discover.result).toMatchObject({ cacheScope: 'public', ttlMs: 3_600_000 });
    expect(seen.tools.result).toMatchObject({ cacheScope: 'public', tools: [{ name: 'fetch' }] });
    const before = up.mcpBodies.length;
    const discover = await post2026(base, bob, 'server/discover', {}, 7);
    const tools = await post2026(base, bob, 'tools/list', {}, 8);
    expect(up.mcpBodies.length).toBe(before);
    for (const [mine, theirs] of [
      [discover, seen.discover],
      [tools, seen.tools],
    ] as const) {
      const { ttlMs, ...rest } = mine.result!;
      expect(rest).toEqual({ ...theirs.result, ttlMs: undefined });
      expect(ttlMs).toBeGreaterThan(3_500_000);
      expect(ttlMs).toBeLessThanOrEqual(3_600_000);
    }
    expect([discover.status, tools.status]).toEqual([200, 200]);
    // The cursor is part of what the answer depends on; prompts/list was never seen.
    const page2 = await post2026(base, bob, 'tools/list', { cursor: 'next' });
    const prompts = await post2026(base, bob, 'prompts/list');
    expect([page2.error?.code, prompts.error?.code]).toEqual([-32600, -32600]);
    // bob's call is asked to connect, as ever.
    const call = await post2026(base, bob, 'tools/call', FETCH_CALL());
    expect(call.result?.resultType).toBe('input_required');
  });

  it('an answer to a URL with a query (the upstream gets it too and may answer by it) is neither kept for others nor given in place of the upstream: -32600', async () => {
    const { gw, base, token } = await freshGateway();
    const [alice, bob] = [await token('alice'), await token('bob')];
    await connectThroughPages(gw, 'alice', CONNECT_URL);
    const variant = await post2026(base, alice, 'tools/list', {}, 1, '?workspace=x');
    expect(variant.result).toMatchObject({ cacheScope: 'public' });
    expect((await post2026(base, bob, 'tools/list')).error?.code).toBe(-32600);
    // The plain URL's answer is kept, and still not given for a URL with a query.
    await post2026(base, alice, 'tools/list');
    expect((await post2026(base, bob, 'tools/list')).result).toMatchObject({ cacheScope: 'public' });
    expect((await post2026(base, bob, 'tools/list', {}, 2, '?workspace=y')).error?.code).toBe(-32600);
  });

  it('raw 2026 client of a user who never connected: discover, tools/call asks for the connect page, the user connects, the retry completes and tools/list now goes upstream', async () => {
    const { gw, base, token } = await freshGateway();
    const bob = await token('bob');
    expect((await post2026(base, bob, 'server/discover')).result?.supportedVersions).toEqual(['2026-07-28']);
    const first = await post2026(base, bob, 'tools/call', FETCH_CALL(), 2);
    expect(first.result).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
    const inputRequests = first.result!.inputRequests as Record<string, { params: { url: string } }>;
    const [key, asked] = Object.entries(inputRequests)[0]!;
    expect(asked.params.url).toBe(CONNECT_URL);
    await connectThroughPages(gw, 'bob', asked.params.url);
    const params = {
      ...FETCH_CALL(),
      inputResponses: { [key]: { action: 'accept' } },
      requestState: first.result!.requestState,
    };
    const done = await post2026(base, bob, 'tools/call', params, 3);
    expect(done.result?.resultType).toBe('complete');
    expect(JSON.stringify(done.result)).toContain('hello from the page');
    const tools = await post2026(base, bob, 'tools/list', {}, 4);
    expect(tools.result).toMatchObject({ tools: [{ name: 'fetch' }] });
    expect(up.mcpBodies.at(-1)).toMatchObject({ id: 4, method: 'tools/list' });
  });

  for (const mode of ['auto', { pin: '2026-07-28' }] as const) {
    const name = mode === 'auto' ? 'in auto mode' : 'pinned to 2026-07-28';
    it(`MCP SDK 2.x client ${name}, a user who never connected: connects on the modern wire, listTools names the connect page, callTool's elicitation handler gets the URL, the user connects, the call completes and listTools works`, async () => {
      const { gw, base, token } = await freshGateway();
      const { client, asked } = sdkClient(gw, 'alice', mode);
      await client.connect(
        new TransportV2(new URL(`${base}/remote/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${await token('alice')}` } },
        }),
      );
      try {
        expect(client.getProtocolEra()).toBe('modern');
        expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
        const listed = await client.listTools().catch((e: unknown) => e);
        expect(listed).toBeInstanceOf(ProtocolError);
        expect((listed as ProtocolError).code).toBe(-32600);
        expect((listed as ProtocolError).message).toContain(CONNECT_URL);
        const r = await client.callTool(FETCH_CALL());
        expect((r.content as Array<{ text: string }>)[0]!.text).toContain('hello from the page');
        expect(asked).toEqual([{ mode: 'url', url: CONNECT_URL, message: expect.any(String) }]);
        expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['fetch']);
      } finally {
        await client.close();
      }
    });
  }
});
