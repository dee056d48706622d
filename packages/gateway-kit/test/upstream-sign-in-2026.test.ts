// Upstream sign-in on the 2026-07-28 wire: a user who has not connected the upstream is asked to
// with an `input_required` result (MRTR) carrying a URL-mode elicitation, never the 2025-only
// `-32042`; the client's retry goes upstream once the user has connected. A real gateway on
// 127.0.0.1, a stub OAuth upstream (fetch-server behind its own authorization server), the pages
// driven over HTTP, raw 2026 requests and the MCP SDK 2.x client pinned to 2026-07-28.
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { sdk1Client } from './helpers/mcp-clients.js';
import { listeningGateway } from './helpers/listening.js';
import { mrtrAnswer, type MrtrAnswer } from './helpers/mrtr-answer.js';
import { connectThroughPages as connectPages } from './helpers/upstream-connect.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';

const ISSUER = 'http://127.0.0.1:8080';
const CONNECT_URL = `${ISSUER}/account/upstream/connect?service=remote`;
const URL_MODE = { elicitation: { url: {} } };
type User = 'alice' | 'bob' | 'carol';

let gw: Gateway;
let base: string;
let up: OAuthUpstream;
let page: Listening;
const tokens = {} as Record<User, string>;

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  up = await startOAuthUpstream('up');
  ({ gw, url: base } = await listeningGateway({
    issuer: ISSUER,
    services: { remote: { type: 'http', url: up.resource, credentials: { type: 'oauth' } } },
  }));
  for (const user of ['alice', 'bob', 'carol'] as const) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'remote')).access_token;
  }
});

afterAll(async () => {
  await up?.close();
  await page?.close();
});

/** A raw 2026-07-28 request of `user` to the `remote` service. */
async function post2026(
  user: User,
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = URL_MODE,
  id = 1,
): Promise<MrtrAnswer> {
  const { body, headers } = request2026(method, params, { capabilities, id });
  const res = await fetch(`${base}/remote/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${tokens[user]}` },
    body,
  });
  return mrtrAnswer(res);
}

/** The user connects the upstream on the gateway's pages, starting from `connectUrl` (a browser, over HTTP). */
const connectThroughPages = (user: User, connectUrl = CONNECT_URL) => connectPages(gw, user, connectUrl);

const disconnect = (user: User) => gw.store.delete(`gateway:upstream-tokens:remote local:${user}`);

const FETCH_CALL = () => ({ name: 'fetch', arguments: { url: `${page.url}/` } });

describe('upstream sign-in, 2026-07-28: input_required with a URL-mode elicitation instead of -32042', () => {
  it('tools/call, prompts/get and resources/read of a user who has not connected: input_required asking to open the connect page, nothing sent upstream', async () => {
    const before = up.mcpBodies.length;
    for (const [method, params] of [
      ['tools/call', FETCH_CALL()],
      ['prompts/get', { name: 'fetch', arguments: { url: `${page.url}/` } }],
      ['resources/read', { uri: `${page.url}/` }],
    ] as const) {
      const a = await post2026('alice', method, params);
      expect(a.status, method).toBe(200);
      expect(a.error, method).toBeUndefined();
      expect(a.result).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
      const asked = Object.values(a.result!.inputRequests!);
      expect(asked).toEqual([
        {
          method: 'elicitation/create',
          params: { mode: 'url', url: CONNECT_URL, message: expect.stringContaining('"remote"') },
        },
      ]);
      // MCP 2026-07-28 removed the elicitationId and forbids -32042.
      expect(JSON.stringify(a)).not.toContain('elicitationId');
      expect(JSON.stringify(a)).not.toContain('32042');
    }
    expect(up.mcpBodies.length).toBe(before);
  });

  it('a client that did not declare URL-mode elicitation gets -32021 naming it (HTTP 400)', async () => {
    for (const caps of [{}, { elicitation: {} }, { elicitation: { form: {} } }]) {
      const a = await post2026('alice', 'tools/call', FETCH_CALL(), caps);
      expect(a.status).toBe(400);
      expect(a.error).toMatchObject({ code: -32021, data: { requiredCapabilities: URL_MODE } });
    }
  });

  it('a 2026 request no input can be asked on and with no public answer (completion/complete) is -32600 naming the connect page, never a legacy-range code; a 2025 session keeps -32042 with its elicitationId', async () => {
    const ref = { type: 'ref/prompt', name: 'fetch' };
    const a = await post2026('alice', 'completion/complete', { ref, argument: { name: 'url', value: 'h' } });
    expect(a.status).toBe(200);
    expect(a.error?.code).toBe(-32600);
    expect(a.error?.message).toContain(CONNECT_URL);
    // A 2025 session (MCP SDK 1.x client, 2025-11-25): its initialize already gets -32042.
    const err = await sdk1Client(`${base}/remote/mcp`, tokens.alice, URL_MODE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32042);
    expect((err as McpError).data).toEqual({
      elicitations: [
        { mode: 'url', elicitationId: expect.any(String), url: CONNECT_URL, message: expect.any(String) },
      ],
    });
  });

  it('the retry before connecting is asked again; a declined one ends with -32600; a requestState of another user or request, or altered, is -32602', async () => {
    const first = await post2026('bob', 'tools/call', FETCH_CALL());
    const state = first.result!.requestState!;
    const key = Object.keys(first.result!.inputRequests!)[0]!;
    const retry = (user: User, action: string, requestState = state, call = FETCH_CALL()) =>
      post2026(
        user,
        'tools/call',
        { ...call, inputResponses: { [key]: { action } }, requestState },
        URL_MODE,
        2,
      );
    // Accepted (the user opened the page) but not connected yet: asked again, with a fresh state.
    const again = await retry('bob', 'accept');
    expect(again.result).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
    expect(again.result!.requestState).not.toBe(state);
    expect((await retry('bob', 'cancel')).result?.resultType).toBe('input_required');
    const declined = await retry('bob', 'decline');
    expect(declined.status).toBe(200);
    expect(declined.error).toMatchObject({ code: -32600, message: expect.stringContaining('declined') });
    // Bound to the user, the request (name and arguments) and intact.
    for (const [why, a] of [
      ['another user', await retry('carol', 'accept')],
      [
        'another request',
        await retry('bob', 'accept', state, { name: 'fetch', arguments: { url: `${page.url}/x` } }),
      ],
      ['altered', await retry('bob', 'accept', `${state.slice(0, -2)}AA`)],
    ] as const) {
      expect(a.status, why).toBe(400);
      expect(a.error?.code, why).toBe(-32602);
    }
  });

  it('after the user connects, the retry goes upstream as the original request, without the gateway requestState or its input response', async () => {
    const first = await post2026('alice', 'tools/call', FETCH_CALL(), URL_MODE, 1);
    const { requestState, inputRequests } = first.result!;
    const [key, asked] = Object.entries(inputRequests!)[0]!;
    await connectThroughPages('alice', asked.params.url as string);
    const done = await post2026(
      'alice',
      'tools/call',
      { ...FETCH_CALL(), inputResponses: { [key]: { action: 'accept' } }, requestState },
      URL_MODE,
      2,
    );
    expect(done.error).toBeUndefined();
    expect(done.result?.resultType).toBe('complete');
    expect(JSON.stringify(done.result)).toContain('hello from the page');
    const forwarded = up.mcpBodies.at(-1) as { id: number; method: string; params: Record<string, unknown> };
    expect(forwarded).toMatchObject({ id: 2, method: 'tools/call', params: FETCH_CALL() });
    expect(Object.keys(forwarded.params).sort()).toEqual(['_meta', 'arguments', 'name']);
    await disconnect('alice');
  });

  it('MCP SDK 2.x client pinned to 2026-07-28: its elicitation handler gets the URL, the user connects, the call completes on the retry', async () => {
    // The client connects (server/discover goes upstream) while carol's account is connected; then she
    // disconnects. (A user who never connected: upstream-sign-in-discover.test.ts.)
    await connectThroughPages('carol');
    const client = new ClientV2(
      { name: 'sdk2', version: '1' },
      { capabilities: URL_MODE, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const asked: Record<string, unknown>[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      // The user opens the URL in a browser and connects; the client retries.
      await connectThroughPages('carol', (request.params as { url: string }).url);
      return { action: 'accept' };
    });
    await client.connect(
      new TransportV2(new URL(`${base}/remote/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokens.carol}` } },
      }),
    );
    try {
      await disconnect('carol');
      const r = await client.callTool(FETCH_CALL());
      expect((r.content as Array<{ text: string }>)[0]!.text).toContain('hello from the page');
      expect(asked).toEqual([{ mode: 'url', url: CONNECT_URL, message: expect.any(String) }]);
    } finally {
      await client.close();
    }
  });
});
