// Upstream sign-in, scopes (MCP 2026-07-28 authorization, "Scope Selection Strategy" and
// "Step-Up Authorization Flow", SEP-2350): the first sign-in asks for the scope of the upstream's
// 401 challenge; a 403 `insufficient_scope` asks the user to connect again, and that sign-in asks
// for what they were granted plus what the challenge named; once per set of scopes. A real gateway
// on 127.0.0.1, stub OAuth upstreams (fetch-server behind their own authorization server), the
// pages driven over HTTP, raw 2026-07-28 requests and the MCP SDK 1.x client (2025 sessions).
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { listen, request2026, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../src/gateway/cli-token.js';
import type { Gateway } from '../src/gateway/create.js';
import { sdk1Client } from './helpers/mcp-clients.js';
import { listeningGateway } from './helpers/listening.js';
import { mrtrAnswer, type MrtrAnswer } from './helpers/mrtr-answer.js';
import { startOAuthUpstream, type OAuthUpstream } from './helpers/oauth-upstream.js';
import { connectThroughPages } from './helpers/upstream-connect.js';

const ISSUER = 'http://127.0.0.1:8080';
const URL_MODE = { elicitation: { url: {} } };
const connectUrl = (service: string) => `${ISSUER}/account/upstream/connect?service=${service}`;
type User = 'alice' | 'bob' | 'carol' | 'dave';

let gw: Gateway;
let base: string;
/** The upstream of services `tracker` (per-user sign-in) and `shared` (one bearer token). */
let up: OAuthUpstream;
let page: Listening;
const tokens = {} as Record<User, string>;

/** `tools/call` of `fetch` needs `write`; anything else needs nothing beyond a valid token. */
const needsWrite = (body: unknown) =>
  (body as { method?: string }).method === 'tools/call' ? 'write' : undefined;

beforeAll(async () => {
  page = await listen(
    () => new Response('hello from the page', { headers: { 'content-type': 'text/plain' } }),
  );
  up = await startOAuthUpstream('scoped');
  up.scopesSupported = ['read', 'write', 'admin'];
  up.challengeScope = 'read';
  up.requiredScope = needsWrite;
  // A shared credential of the gateway's own, granted `read` only.
  up.issued.add('shared-token');
  up.tokenScopes.set('shared-token', 'read');
  ({ gw, url: base } = await listeningGateway({
    issuer: ISSUER,
    services: {
      tracker: { type: 'http', url: up.resource, credentials: { type: 'oauth' } },
      shared: { type: 'http', url: up.resource, credentials: { type: 'bearer', token: 'shared-token' } },
    },
  }));
  for (const user of ['alice', 'bob', 'carol', 'dave'] as const) {
    await gw.users.put(user, `${user}-password-1`);
    tokens[user] = (await issueToken(gw, user, 'tracker')).access_token;
  }
});

afterAll(async () => {
  await up?.close();
  await page?.close();
});

const FETCH_CALL = () => ({ name: 'fetch', arguments: { url: `${page.url}/` } });

/** A raw 2026-07-28 request of `user` to `service`. */
async function post2026(
  user: User,
  params: Record<string, unknown>,
  id = 1,
  service = 'tracker',
): Promise<MrtrAnswer> {
  const { body, headers } = request2026('tools/call', params, { capabilities: URL_MODE, id });
  const token = service === 'tracker' ? tokens[user] : (await issueToken(gw, user, service)).access_token;
  const res = await fetch(`${base}/${service}/mcp`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
    body,
  });
  return mrtrAnswer(res);
}

/** The `scope` of the last `/authorize` request the upstream got. */
const lastAskedScope = () => up.authorizeQueries.at(-1)?.get('scope');
/** The scope granted with the last access token the upstream issued. */
const lastGranted = () => [...up.tokenScopes.values()].at(-1);

describe('upstream sign-in: scope selection and step-up', () => {
  it("the first sign-in asks for the scope of the upstream's 401 challenge, not its scopes_supported", async () => {
    await connectThroughPages(gw, 'alice', connectUrl('tracker'));
    expect(lastAskedScope()).toBe('read');
    expect(lastGranted()).toBe('read');
  });

  it('a 403 insufficient_scope asks the 2026 client to have the user connect again; that sign-in asks for the union of the granted and the challenged scopes, and the retry succeeds', async () => {
    await connectThroughPages(gw, 'bob', connectUrl('tracker'));
    const before = up.mcpBodies.length;
    const first = await post2026('bob', FETCH_CALL());
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
    const [key, asked] = Object.entries(first.result!.inputRequests!)[0]!;
    expect(asked).toEqual({
      method: 'elicitation/create',
      params: { mode: 'url', url: connectUrl('tracker'), message: expect.stringContaining('(write)') },
    });
    // Refused upstream: nothing served.
    expect(up.mcpBodies.length).toBe(before);

    const authorizes = up.authorizeQueries.length;
    await connectThroughPages(gw, 'bob', asked.params.url as string);
    expect(up.authorizeQueries.length).toBe(authorizes + 1);
    expect(lastAskedScope()).toBe('read write');
    expect(lastGranted()).toBe('read write');

    const done = await post2026(
      'bob',
      {
        ...FETCH_CALL(),
        inputResponses: { [key]: { action: 'accept' } },
        requestState: first.result!.requestState,
      },
      2,
    );
    expect(done.error).toBeUndefined();
    expect(done.result?.resultType).toBe('complete');
    expect(JSON.stringify(done.result)).toContain('hello from the page');
  });

  it('no loop: when the step-up did not get the scopes, a second 403 naming them is a 502 as before, with no further sign-in asked for; a shared credential keeps its 502', async () => {
    up.grant = (asked) => asked.replace(/\bwrite\b/, '').trim();
    try {
      await connectThroughPages(gw, 'carol', connectUrl('tracker'));
      const first = await post2026('carol', FETCH_CALL());
      expect(first.result?.resultType).toBe('input_required');
      await connectThroughPages(gw, 'carol', connectUrl('tracker'));
      expect(lastAskedScope()).toBe('read write');
      const authorizes = up.authorizeQueries.length;
      for (const id of [2, 3]) {
        const again = await post2026('carol', FETCH_CALL(), id);
        expect(again.status).toBe(502);
        expect(again.error?.message).toContain("refused the gateway's credential (upstream 403)");
      }
      expect(up.authorizeQueries.length).toBe(authorizes);
      // The service with one bearer token for everyone has no sign-in to step up.
      const shared = await post2026('carol', FETCH_CALL(), 4, 'shared');
      expect(shared.status).toBe(502);
      expect(shared.error?.message).toContain('(upstream 403)');
    } finally {
      delete up.grant;
    }
  });

  it('a 2025 session gets the URL elicitation error -32042 naming the connect page; the scopes of a 401 challenge are kept for the next sign-in too', async () => {
    await connectThroughPages(gw, 'dave', connectUrl('tracker'));
    const client = await sdk1Client(`${base}/tracker/mcp`, tokens.dave, URL_MODE);
    try {
      const err = await client.callTool(FETCH_CALL()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(-32042);
      expect((err as McpError).data).toEqual({
        elicitations: [
          {
            mode: 'url',
            elicitationId: expect.any(String),
            url: connectUrl('tracker'),
            message: expect.stringContaining('(write)'),
          },
        ],
      });
      // The upstream forgets dave's access token and challenges for `read audit`: refreshed, kept.
      const held = [...up.tokenScopes.keys()].at(-1)!;
      up.issued.delete(held);
      up.challengeScope = 'read audit';
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('fetch');
      expect(up.tokenRequests.at(-1)?.grantType).toBe('refresh_token');
    } finally {
      up.challengeScope = 'read';
      await client.close();
    }
    await connectThroughPages(gw, 'dave', connectUrl('tracker'));
    expect(lastAskedScope()).toBe('read write audit');
  });
});
