import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { connect, createOAuthSession, MemoryTokenStore, AuthError, type Clock } from '../src/index.js';
import { startSdkOAuthServer, type SdkOAuthServer } from './helpers/sdk-oauth-server.js';
import { autoBrowser } from './helpers/flow.js';

const servers: SdkOAuthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: Parameters<typeof startSdkOAuthServer>[0] = {}) {
  const s = await startSdkOAuthServer(opts);
  servers.push(s);
  return s;
}

const textOf = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;

describe('OAuth against the MCP SDK example server (not ours)', () => {
  it('mcp auth: 401 resource_metadata → RFC 9728 → RFC 8414 → RFC 7591 → PKCE login with resource, then tools work', async () => {
    const s = await start({ requiredScopes: ['mcp:tools'] });
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    const client = await connect(s.mcpUrl, { oauth: session });
    const who = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
      clientId: string;
      scopes: string[];
    };
    await client.close();

    expect(browser.urls).toHaveLength(1);
    const authUrl = new URL(browser.urls[0]!);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(s.mcpUrl);
    expect(authUrl.searchParams.get('scope')).toBe('mcp:tools');
    expect(authUrl.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(s.provider.resources).toEqual([s.mcpUrl]);
    const [rec] = await store.list(s.mcpUrl);
    expect(rec).toMatchObject({
      version: 1,
      issuer: s.issuer,
      resource: s.mcpUrl,
      client: { source: 'dcr' },
    });
    expect(who.clientId).toBe(rec!.client!.client_id);
    expect(who.scopes).toEqual(['mcp:tools']);
    const page = await browser.pages[0]!;
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in');
  });

  it('refresh: a token about to expire is refreshed before the request, sending resource (RFC 8707)', async () => {
    const s = await start();
    const store = new MemoryTokenStore();
    let now = Date.now();
    const clock: Clock = { now: () => now };
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      clock,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    await session.login();
    const first = (await store.list(s.mcpUrl))[0]!.tokens!;
    now += 3600_000 - 30_000; // inside the 60 s refresh window
    const client = await connect(s.mcpUrl, { oauth: session });
    await client.listTools();
    await client.close();
    const second = (await store.list(s.mcpUrl))[0]!.tokens!;
    expect(s.provider.refreshGrants).toBe(1);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(s.provider.resources).toEqual([s.mcpUrl, s.mcpUrl]);
    expect(browser.urls).toHaveLength(1);
  });

  it('refresh on 401: a token the server stopped accepting is refreshed once and the request retried', async () => {
    const s = await start();
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    const client = await connect(s.mcpUrl, { oauth: session });
    s.provider.expireAccessTokens();
    const results = await Promise.all([client.listTools(), client.listPrompts(), client.listResources()]);
    await client.close();
    expect(results[0].tools.map((t) => t.name)).toContain('echo');
    expect(s.provider.refreshGrants).toBe(1);
    expect(s.provider.refreshReuse).toBe(0);
    expect(browser.urls).toHaveLength(1);
  });

  it('refresh: invalid_grant falls back to a new login (interactive), and fails clearly when not interactive', async () => {
    const s = await start();
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    await session.login();
    s.provider.refreshTokens.clear();
    s.provider.expireAccessTokens();

    const quiet = createOAuthSession({ serverUrl: s.mcpUrl, store, interactive: false });
    const err = await connect(s.mcpUrl, { oauth: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('login_required');
    expect((err as AuthError).message).toContain('mcp-streamablehttp-client login --url');

    const client = await connect(s.mcpUrl, { oauth: session });
    await client.listTools();
    await client.close();
    expect(browser.urls).toHaveLength(2);
  });

  it('re-register on invalid_client: a client the AS forgot is registered again', async () => {
    const s = await start();
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    await session.login();
    const oldId = (await store.list(s.mcpUrl))[0]!.client!.client_id;
    (s.provider.clientsStore as unknown as { clients: Map<string, unknown> }).clients.delete(oldId);
    s.provider.expireAccessTokens();
    const client = await connect(s.mcpUrl, { oauth: session });
    await client.listTools();
    await client.close();
    const newId = (await store.list(s.mcpUrl))[0]!.client!.client_id;
    expect(newId).not.toBe(oldId);
    expect(browser.urls).toHaveLength(2);
  });

  it('step-up: 403 insufficient_scope logs in again asking for the held scopes plus the missing one', async () => {
    const s = await start({ requiredScopes: ['mcp:tools'], stepUp: { tool: 'whoami', scope: 'admin' } });
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    const client = await connect(s.mcpUrl, { oauth: session });
    const who = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
      scopes: string[];
    };
    await client.close();
    expect(browser.urls).toHaveLength(2);
    expect(new URL(browser.urls[1]!).searchParams.get('scope')).toBe('mcp:tools admin');
    expect(who.scopes.sort()).toEqual(['admin', 'mcp:tools']);
    expect((await store.list(s.mcpUrl))[0]!.tokens!.scope).toBe('mcp:tools admin');
  });

  it('step-up is refused without a login when the session is not interactive', async () => {
    const s = await start({ requiredScopes: ['mcp:tools'], stepUp: { tool: 'whoami', scope: 'admin' } });
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    await createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    }).login();
    const client = await connect(s.mcpUrl, {
      oauth: createOAuthSession({ serverUrl: s.mcpUrl, store, interactive: false }),
    });
    const err = await client.callTool({ name: 'whoami', arguments: {} }).catch((e: unknown) => e);
    await client.close();
    expect((err as { cause?: unknown }).cause ?? err).toBeInstanceOf(AuthError);
    expect(String((err as Error).message)).toMatch(/more scopes \(mcp:tools admin\)/);
  });

  it('registration order: a static client (--client-id/--client-secret) is used instead of RFC 7591, with the auth method the AS advertises', async () => {
    const s = await start();
    const probe = await listen(() => new Response(''));
    const port = probe.port;
    await probe.close();
    await s.provider.clientsStore.registerClient({
      client_id: 'static-1',
      client_secret: 'static-secret',
      redirect_uris: [`http://127.0.0.1:${port}/callback`],
      token_endpoint_auth_method: 'client_secret_post',
    });
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      staticClient: { client_id: 'static-1', client_secret: 'static-secret' },
      callbackPort: port,
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    const client = await connect(s.mcpUrl, { oauth: session });
    const who = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
      clientId: string;
    };
    await client.close();
    expect(who.clientId).toBe('static-1');
    expect((await store.list(s.mcpUrl))[0]!.client).toMatchObject({
      source: 'static',
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect((s.provider.clientsStore as unknown as { clients: Map<string, unknown> }).clients.size).toBe(1);
  });

  it('registration order: --client-metadata-url falls back to RFC 7591 when the AS does not support CIMD', async () => {
    const s = await start();
    const store = new MemoryTokenStore();
    const browser = autoBrowser();
    const session = createOAuthSession({
      serverUrl: s.mcpUrl,
      store,
      clientMetadataUrl: 'https://client.example/metadata.json',
      openBrowser: false,
      onAuthorizationUrl: browser.onAuthorizationUrl,
    });
    await session.login();
    const rec = (await store.list(s.mcpUrl))[0]!;
    expect(rec.client!.source).toBe('dcr');
    expect(rec.client!.client_id).not.toBe('https://client.example/metadata.json');
  });
});
