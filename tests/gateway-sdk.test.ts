import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { killAllSpawned, listen, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAndConsent, repoRoot, startGateway, tempDir, type RunningGateway } from './gateway-helpers.js';

/** An OAuth provider for the SDK client that "opens the browser" with a plain-HTTP login. */
class TestProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  code: string | undefined;
  constructor(private readonly creds: { username: string; password: string }) {}
  get redirectUrl() {
    return 'http://127.0.0.1:9/callback';
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK e2e client',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  async redirectToAuthorization(url: URL) {
    const back = await loginAndConsent(url.href, this.creds);
    this.code = back.searchParams.get('code') ?? undefined;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Connects the SDK client, going through the OAuth dance once when the server says 401. */
async function connect(url: string, provider: TestProvider): Promise<Client> {
  const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
  let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  try {
    await client.connect(transport);
    return client;
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  await transport.finishAuth(provider.code!);
  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await client.connect(transport);
  return client;
}

let gw: RunningGateway;
let upstream: Listening;
const upstreamAuth: (string | null)[] = [];
const upstreamUser: (string | null)[] = [];

beforeAll(async () => {
  // An upstream Streamable HTTP MCP server that wants the gateway's own credential.
  upstream = await listen(async (req) => {
    upstreamAuth.push(req.headers.get('authorization'));
    upstreamUser.push(req.headers.get('x-user-id'));
    if (req.headers.get('authorization') !== 'Bearer upstream-credential')
      return new Response('no', { status: 401 });
    const server = new McpServer({ name: 'upstream', version: '1.0.0' });
    server.registerTool('shout', { description: 'Upper-cases text.', inputSchema: {} }, () => ({
      content: [{ type: 'text', text: 'UPSTREAM SAYS HI' }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(req);
  });
  const cwd = tempDir();
  writeFileSync(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      'services:',
      '  demo:',
      '    type: stdio',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(path.join(repoRoot, 'packages/gateway-kit/dist/demo-server.js'))}]`,
      '  api:',
      '    type: http',
      `    url: ${upstream.url}/mcp`,
      '    credentials: { type: bearer, token: upstream-credential }',
      '',
    ].join('\n'),
  );
  gw = await startGateway({ cwd });
});

afterAll(async () => {
  await killAllSpawned();
  await upstream?.close();
});

describe('the MCP SDK client with its own OAuth provider', () => {
  it('reaches a stdio service and an http service through the gateway, each with its own token', async () => {
    const creds = { username: 'admin', password: gw.adminPassword! };
    const demo = await connect(`${gw.url}/demo/mcp`, new TestProvider(creds));
    const tools = await demo.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'add', 'whoami']));
    const sum = await demo.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    expect(sum.content).toEqual([{ type: 'text', text: '42' }]);
    const who = await demo.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.parse((who.content as { text: string }[])[0]!.text)).toMatchObject({ id: 'local:admin' });
    await demo.close();

    const apiProvider = new TestProvider(creds);
    const api = await connect(`${gw.url}/api/mcp`, apiProvider);
    const shout = await api.callTool({ name: 'shout', arguments: {} });
    expect(shout.content).toEqual([{ type: 'text', text: 'UPSTREAM SAYS HI' }]);
    await api.close();
    expect(upstreamAuth.length).toBeGreaterThan(0);
    expect(new Set(upstreamAuth)).toEqual(new Set(['Bearer upstream-credential']));
    expect(new Set(upstreamUser)).toEqual(new Set(['local:admin']));
    expect(upstreamAuth).not.toContain(`Bearer ${apiProvider.saved!.access_token}`);
  }, 120_000);
});
