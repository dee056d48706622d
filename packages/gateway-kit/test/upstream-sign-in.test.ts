// Upstream sign-in on the user's behalf (issue 20): an `http` service whose upstream MCP server is
// protected by its own authorization server (a second instance of ours), reached through the
// gateway with each user's own upstream tokens. Real servers on 127.0.0.1, real Chromium for the
// pages, the MCP SDK's client for the MCP calls.
import { createServer } from 'node:net';
import {
  chromiumLaunchOptions,
  listen,
  startOtlpReceiver,
  type Listening,
  type OtlpReceiver,
} from '@mcp-gateway/testkit';
import {
  createAuthorizationServer,
  hashPassword,
  localIdentityProvider,
  silentLogger,
  type AuthorizationServer,
} from '@mcp-gateway/oauth-dynamicclient';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import { issueToken } from '../src/gateway/cli-token.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const COST = { N: 1024, r: 8, p: 1 };
const PASSWORDS = { alice: 'alice-gateway-pw', bob: 'bob-upstream-pw', carol: 'carol-gateway-pw' };

/** The upstream: our authorization server and an MCP server it protects, on one origin. */
interface Upstream {
  url: string;
  resource: string;
  as: AuthorizationServer;
  /** Subjects of the upstream tokens the MCP server accepted, in order. */
  seen: string[];
  /** `Authorization` values the MCP server received. */
  authorizations: string[];
  clock: { offsetMs: number };
  server: Listening;
}

async function startUpstream(): Promise<Upstream> {
  const late: { handler?: (r: Request) => Promise<Response> } = {};
  const server = await listen((r) => late.handler!(r));
  const resource = `${server.url}/mcp`;
  const clock = { offsetMs: 0 };
  const as = createAuthorizationServer({
    issuer: server.url,
    resources: [{ resource, scopes: ['tools'], name: 'Upstream MCP', default: true }],
    identityProvider: localIdentityProvider({
      users: [{ username: 'bob', passwordHash: await hashPassword(PASSWORDS.bob, COST) }],
    }),
    clock: { now: () => Date.now() + clock.offsetMs },
    logger: silentLogger,
  });
  await as.ready();
  const up: Upstream = { url: server.url, resource, as, seen: [], authorizations: [], clock, server };
  const guard = as.requireBearer({ resource, scopes: ['tools'] });
  late.handler = async (request) => {
    if (new URL(request.url).pathname !== '/mcp') return as.fetch(request, { remoteAddress: '127.0.0.1' });
    up.authorizations.push(request.headers.get('authorization') ?? '');
    const check = await guard(request);
    if (!check.ok) return check.response;
    up.seen.push(check.token.sub);
    const mcp = new McpServer({ name: 'upstream', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'The upstream user of the token' }, () => ({
      content: [{ type: 'text', text: check.token.sub }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    await mcp.connect(transport);
    return transport.handleRequest(request);
  };
  return up;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

let up: Upstream;
let gw: Gateway;
let gwUrl: string;
let browser: Browser;
/** The OpenTelemetry collector stand-in: the refresh is a span of the request that needed it. */
let collector: OtlpReceiver;
process.env.OTEL_BSP_SCHEDULE_DELAY = '20';

beforeAll(async () => {
  up = await startUpstream();
  collector = await startOtlpReceiver();
  const port = await freePort();
  gwUrl = `http://127.0.0.1:${port}`;
  const { config } = resolveConfig(
    {
      issuer: gwUrl,
      listen: { host: '127.0.0.1', port },
      store: { type: 'memory' },
      idp: {
        type: 'local',
        users: [
          { username: 'alice', passwordHash: await hashPassword(PASSWORDS.alice, COST) },
          { username: 'carol', passwordHash: await hashPassword(PASSWORDS.carol, COST) },
        ],
      },
      services: {
        remote: { type: 'http', url: up.resource, credentials: { type: 'oauth' } },
        // Restricted to another user: alice's account page never names it.
        restricted: { type: 'http', url: up.resource, credentials: { type: 'oauth' }, users: ['local:bob'] },
      },
      telemetry: { endpoint: collector.endpoint },
    },
    { env: {} },
  );
  gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  await gw.listen();
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await gw?.close(0);
  await up?.server.close();
  await up?.as.close();
  await collector?.close();
});

/** An MCP SDK client of the `remote` service with alice's gateway token. */
async function aliceClient(): Promise<Client> {
  const { access_token } = await issueToken(gw, 'alice', 'remote');
  const client = new Client({ name: 'sdk', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gwUrl}/remote/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${access_token}` } },
    }),
  );
  return client;
}

async function signInToAccount(page: Page, user: 'alice' | 'carol' = 'alice'): Promise<void> {
  await page.goto(`${gwUrl}/account`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORDS[user]);
  await Promise.all([page.waitForURL(`${gwUrl}/account`), page.click('#sign-in')]);
}

const text = (r: Awaited<ReturnType<Client['callTool']>>) =>
  (r.content as { type: string; text: string }[])[0]!.text;

describe('upstream sign-in: the gateway as OAuth client of a protected upstream, per user', () => {
  let page: Page;

  it('before connecting, an MCP request gets -32042 with the page to connect the upstream (URL elicitation)', async () => {
    const err = await aliceClient().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32042);
    const data = (err as McpError).data as { elicitations: { mode: string; url: string }[] };
    expect(data.elicitations[0]).toMatchObject({
      mode: 'url',
      url: `${gwUrl}/account/upstream/connect?service=remote`,
    });
    // Nothing reached the upstream's MCP endpoint: no token to send.
    expect(up.authorizations).toEqual([]);
  });

  it('connecting: account page → upstream login and consent → back, connected (one consent per upstream)', async () => {
    const context = await browser.newContext();
    page = await context.newPage();
    await signInToAccount(page);
    expect(await page.textContent('[data-service="remote"]')).toContain('Not connected');
    await page.click('[data-service="remote"] a.connect');
    await page.waitForURL(`${up.url}/**`);
    await page.fill('#username', 'bob');
    await page.fill('#password', PASSWORDS.bob);
    await Promise.all([page.waitForURL(/\/consent\?flow=/), page.click('#sign-in')]);
    expect(await page.textContent('body')).toContain('mcp-gateway at 127.0.0.1');
    await Promise.all([page.waitForURL(`${gwUrl}/account`), page.click('#approve')]);
    expect(await page.textContent('[data-service="remote"] .connected')).toBe('Connected');
  });

  it("a service restricted to other users is not on the user's account page, and cannot be connected", async () => {
    await page.goto(`${gwUrl}/account`);
    expect(await page.locator('[data-service="remote"]').count()).toBe(1);
    expect(await page.locator('[data-service="restricted"]').count()).toBe(0);
    expect(await page.content()).not.toContain('restricted');
    const res = await page.goto(`${gwUrl}/account/upstream/connect?service=restricted`);
    expect(res!.status()).toBe(404);
  });

  it("a call goes upstream with the user's own upstream token, never the gateway token; the store holds it sealed", async () => {
    const client = await aliceClient();
    expect(text(await client.callTool({ name: 'whoami' }))).toBe('local:bob');
    await client.close();
    expect(up.seen.at(-1)).toBe('local:bob');
    const { access_token } = await issueToken(gw, 'alice', 'remote');
    expect(up.authorizations.some((a) => a.includes(access_token))).toBe(false);
    const sealed = await gw.store.get<string>('gateway:upstream-tokens:remote local:alice');
    expect(typeof sealed).toBe('string');
    const upstreamToken = up.authorizations.at(-1)!.slice('Bearer '.length);
    expect(sealed).not.toContain(upstreamToken);
    expect(sealed!.split('.')).toHaveLength(5); // a compact JWE
  });

  it('an expired upstream access token is refreshed and the call retried, once', async () => {
    const before = up.authorizations.at(-1);
    up.clock.offsetMs = 2 * 3600_000; // past the upstream access token's hour
    try {
      const client = await aliceClient();
      expect(text(await client.callTool({ name: 'whoami' }))).toBe('local:bob');
      await client.close();
    } finally {
      up.clock.offsetMs = 0;
    }
    expect(up.authorizations.at(-1)).not.toBe(before);
    // The refresh is a child span of the MCP request that found the token expired.
    const refreshOf = (all: typeof collector.spans) => all.find((x) => x.name === 'upstream.token_refresh');
    const spans = await collector.waitForSpans((all) =>
      all.some((x) => x.spanId === refreshOf(all)?.parentSpanId),
    );
    const refresh = refreshOf(spans)!;
    expect(refresh.status).not.toBe(2);
    const parent = spans.find((x) => x.spanId === refresh.parentSpanId);
    expect(parent).toMatchObject({
      attributes: { 'mcp.gateway.service': 'remote', 'enduser.id': 'local:alice' },
    });
  });

  it('disconnecting revokes the tokens at the upstream and forgets them; the next call asks to connect again', async () => {
    const upstreamToken = up.authorizations.at(-1)!.slice('Bearer '.length);
    await page.goto(`${gwUrl}/account`);
    await Promise.all([
      page.waitForURL(`${gwUrl}/account`),
      page.click('[data-service="remote"] button.disconnect'),
    ]);
    expect(await page.textContent('[data-service="remote"]')).toContain('Not connected');
    expect(await gw.store.get('gateway:upstream-tokens:remote local:alice')).toBeUndefined();
    const direct = await fetch(up.resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${upstreamToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(direct.status).toBe(401);
    const err = await aliceClient().catch((e: unknown) => e);
    expect((err as McpError).code).toBe(-32042);
  });

  it('a callback without the browser cookie of its connect step is refused, and nothing is stored', async () => {
    const context = await browser.newContext();
    const other = await context.newPage();
    await signInToAccount(other);
    const res = await other.goto(`${gwUrl}/account/upstream/callback/remote?code=stolen&state=forged`);
    expect(res?.status()).toBe(400);
    expect(await other.textContent('body')).toContain('Connection failed');
    expect(await gw.store.get('gateway:upstream-tokens:remote local:alice')).toBeUndefined();
    await context.close();
  });

  it('a connect started by one user and finished in the same browser after another signed in is refused with a clear page; nothing is stored', async () => {
    const context = await browser.newContext();
    const started = await context.newPage();
    await signInToAccount(started);
    await started.click('[data-service="remote"] a.connect');
    await started.waitForURL(`${up.url}/**`);
    // Meanwhile carol signs in to the gateway in this browser (her account session replaces alice's).
    // (Set directly: the two authorization servers share the host 127.0.0.1, so a second login
    // flow here would overwrite the upstream's flow cookie, which real deployments never share.)
    const carol = await issueToken(gw, 'carol', 'account');
    await context.addCookies([{ name: 'mcp-account', value: carol.access_token, url: gwUrl }]);
    // The upstream sign-in goes on and its answer comes back to the gateway: carol is signed in, alice started it.
    await started.fill('#username', 'bob');
    await started.fill('#password', PASSWORDS.bob);
    const callback = /\/account\/upstream\/callback\/remote\?/;
    const answered = started.waitForResponse(callback);
    await started.click('#sign-in');
    await started.waitForURL(/\/consent\?flow=|\/account\/upstream\/callback\/remote\?/);
    if (!callback.test(started.url())) await started.click('#approve');
    const res = await answered;
    expect(res.status()).toBe(403);
    await started.waitForURL(callback);
    expect(await started.textContent('h1')).toBe('Connection not completed');
    expect(await started.textContent('#other-user')).toContain('started by another account');
    expect(await gw.store.get('gateway:upstream-tokens:remote local:carol')).toBeUndefined();
    expect(await gw.store.get('gateway:upstream-tokens:remote local:alice')).toBeUndefined();
    // Carol's own account page still offers to connect.
    await started.goto(`${gwUrl}/account`);
    expect(await started.textContent('#user-id')).toBe('local:carol');
    expect(await started.textContent('[data-service="remote"]')).toContain('Not connected');
    await context.close();
  });
});

describe('upstream tokens at rest', () => {
  it('a sealed record copied under another user or service does not open', async () => {
    const { SecretBox } = await import('../src/upstream/secret-box.js');
    const { UpstreamTokenVault } = await import('../src/upstream/token-vault.js');
    const box = new SecretBox(new Uint8Array(32).fill(7), 'upstream-tokens');
    const vault = new UpstreamTokenVault(gw.store, box);
    await vault.put('svc', 'local:carol', { accessToken: 'at-carol', connectedAt: 1 });
    expect(await vault.get('svc', 'local:carol')).toEqual({ accessToken: 'at-carol', connectedAt: 1 });
    const sealed = await gw.store.get('gateway:upstream-tokens:svc local:carol');
    await gw.store.set('gateway:upstream-tokens:svc local:mallory', sealed);
    await gw.store.set('gateway:upstream-tokens:other local:carol', sealed);
    expect(await vault.get('svc', 'local:mallory')).toBeUndefined();
    expect(await vault.get('other', 'local:carol')).toBeUndefined();
    // Another gateway secret opens nothing either.
    const stranger = new UpstreamTokenVault(
      gw.store,
      new SecretBox(new Uint8Array(32).fill(8), 'upstream-tokens'),
    );
    expect(await stranger.get('svc', 'local:carol')).toBeUndefined();
  });

  it('a GET stream of a user who has not connected gets 403 with the -32042 error, not a 502', async () => {
    const { access_token } = await issueToken(gw, 'alice', 'remote');
    const res = await fetch(`${gwUrl}/remote/mcp`, {
      headers: { authorization: `Bearer ${access_token}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: number; data: { elicitations: { url: string }[] } } };
    expect(body.error.code).toBe(-32042);
    expect(body.error.data.elicitations[0]!.url).toBe(`${gwUrl}/account/upstream/connect?service=remote`);
  });
});
