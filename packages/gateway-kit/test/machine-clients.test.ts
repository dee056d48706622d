import {
  Client,
  ClientCredentialsProvider,
  CrossAppAccessProvider,
  discoverAndRequestJwtAuthGrant,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { hashSecret } from '@mcp-gateway/oauth-dynamicclient';
import { listen, startEnterpriseIdpStub, type EnterpriseIdpStub, type Listening } from '@mcp-gateway/testkit';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { resolveConfig } from '../src/config/load.js';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { subjectWarnings } from '../src/config/subjects.js';
import { demoServerPath } from '../src/config/defaults.js';
import { createGateway, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

const OPS_SECRET = 'ops-bot-secret-0123456789abcdef';
const OTHER_SECRET = 'other-bot-secret-0123456789abcd';
const APP_SECRET = 'mcp-app-secret-0123456789abcdef';
const demo = { type: 'stdio' as const, command: process.execPath, args: [demoServerPath()] };

/** A gateway listening on 127.0.0.1 whose issuer is its own URL. */
async function listeningGateway(input: () => GatewayConfigInput): Promise<{ gw: Gateway; srv: Listening }> {
  const late: { gw?: Gateway } = {};
  const srv = await listen((req) => late.gw!.fetch(req));
  const { config } = resolveConfig({ store: { type: 'memory' }, ...input(), issuer: srv.url }, { env: {} });
  late.gw = await createGateway(config, { logger: createLogger('silent'), processMetrics: false });
  return { gw: late.gw, srv };
}

/** Connects an MCP SDK 2.x client with `provider` and calls `tool`; returns the text of the result. */
async function callTool(
  url: string,
  provider: OAuthClientProvider,
  tool: string,
  args: Record<string, unknown> = {},
) {
  const client = new Client({ name: 'machine-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  try {
    const result = await client.callTool({ name: tool, arguments: args });
    return (result.content as Array<{ type: string; text: string }>)[0]!.text;
  } finally {
    await client.close();
  }
}

async function clientCredentialsToken(
  url: string,
  id: string,
  secret: string,
  resource: string,
  scope?: string,
) {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...(scope ? { scope } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
}

describe('gateway: machine clients and enterprise IdPs reach MCP services', () => {
  let gw: Gateway;
  let srv: Listening;
  let idp: EnterpriseIdpStub;
  let jwtKey: CryptoKey;

  beforeAll(async () => {
    idp = await startEnterpriseIdpStub({
      clients: [{ clientId: 'idp-client', clientSecret: 'idp-secret', resourceClientId: 'mcp-app' }],
    });
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwtKey = pair.privateKey;
    const jwk = { kty: 'EC', ...(await exportJWK(pair.publicKey)), kid: 'jwt-bot-1', alg: 'ES256' };
    const clients = [
      {
        id: 'ops-bot',
        secretHash: await hashSecret(OPS_SECRET),
        scopes: ['mcp:demo', 'mcp:secret', 'mcp:admin'],
      },
      { id: 'other-bot', secretHash: await hashSecret(OTHER_SECRET), scopes: ['mcp:demo', 'mcp:secret'] },
      { id: 'jwt-bot', jwks: { keys: [jwk] }, scopes: ['mcp:demo'] },
      { id: 'mcp-app', secretHash: await hashSecret(APP_SECRET), grants: ['jwt-bearer' as const] },
    ];
    ({ gw, srv } = await listeningGateway(() => ({
      services: { demo, secret: { ...demo, users: ['client:ops-bot'] } },
      admins: ['client:ops-bot'],
      // The admin API test adds an http service on loopback.
      admin: { allowPrivateHttpServices: true },
      authorization: {
        grants: { clientCredentials: true, jwtBearer: true },
        trustedIdps: [{ issuer: idp.issuer, jwksUri: idp.jwksUri }],
        keyFetch: { allowLoopback: true },
        clients,
      },
    })));
  });
  afterAll(async () => {
    await gw?.close(0);
    await srv?.close();
    await idp?.close();
  });

  it('MCP SDK ClientCredentialsProvider: a machine client calls a tool as client:<id>', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'ops-bot',
      clientSecret: OPS_SECRET,
      expectedIssuer: srv.url,
    });
    const who = JSON.parse(await callTool(`${srv.url}/secret/mcp`, provider, 'whoami')) as { id: string };
    expect(who.id).toBe('client:ops-bot');
  });

  it('users list: a machine client not on a service list gets 403, one on it 200', async () => {
    const resource = `${srv.url}/secret/mcp`;
    const other = await clientCredentialsToken(srv.url, 'other-bot', OTHER_SECRET, resource);
    const ops = await clientCredentialsToken(srv.url, 'ops-bot', OPS_SECRET, resource);
    const list = (token: string) =>
      fetch(resource, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
    const refused = await list(other.body.access_token!);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('access_denied');
    const admitted = await list(ops.body.access_token!);
    expect(admitted.status).toBe(200);
    await admitted.body?.cancel();
  });

  it('admin API: a runtime service whose users list names a machine client is accepted', async () => {
    const admin = await clientCredentialsToken(
      srv.url,
      'ops-bot',
      OPS_SECRET,
      `${srv.url}/admin`,
      'mcp:admin',
    );
    expect(admin.status).toBe(200);
    const res = await fetch(`${srv.url}/admin/services/bots`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.body.access_token!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'http', url: 'http://127.0.0.1:9/mcp', users: ['client:other-bot'] }),
    });
    expect(await res.text()).not.toMatch(/clientCredentials is off/);
    expect(res.status).toBeLessThan(300);
  });

  it('MCP SDK PrivateKeyJwtProvider: private_key_jwt with the jwks from the config', async () => {
    const provider = new PrivateKeyJwtProvider({
      clientId: 'jwt-bot',
      privateKey: await exportJWK(jwtKey),
      algorithm: 'ES256',
      expectedIssuer: srv.url,
    });
    expect(await callTool(`${srv.url}/demo/mcp`, provider, 'echo', { text: 'hi' })).toBe('hi');
  });

  it('MCP SDK CrossAppAccessProvider: the enterprise IdP user reaches a service as oidc:<issuer>#<sub>', async () => {
    const idToken = await idp.idToken('emp-7', 'idp-client');
    const provider = new CrossAppAccessProvider({
      clientId: 'mcp-app',
      clientSecret: APP_SECRET,
      expectedIssuer: srv.url,
      assertion: async (ctx) =>
        (
          await discoverAndRequestJwtAuthGrant({
            idpUrl: idp.issuer,
            audience: ctx.authorizationServerUrl,
            resource: ctx.resourceUrl,
            idToken,
            clientId: 'idp-client',
            clientSecret: 'idp-secret',
            ...(ctx.scope ? { scope: ctx.scope } : {}),
            fetchFn: ctx.fetchFn,
          })
        ).jwtAuthGrant,
    });
    const who = JSON.parse(await callTool(`${srv.url}/demo/mcp`, provider, 'whoami')) as { id: string };
    expect(who.id).toBe(`oidc:${idp.issuer}#emp-7`);
    expect(idp.issued).toHaveLength(1);
  });
});

describe('config: authorization for machine clients is validated at load', () => {
  const load = (authorization: GatewayConfigInput['authorization'], extra: GatewayConfigInput = {}) =>
    resolveConfig(
      {
        issuer: 'http://127.0.0.1:8080',
        store: { type: 'memory' },
        services: { demo },
        authorization,
        ...extra,
      },
      { env: {} },
    );
  const issues = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
      throw err;
    }
    return [];
  };
  const hash = 'a'.repeat(43);

  it('a client with both a secret hash and keys, or with neither, is refused', () => {
    expect(issues(() => load({ clients: [{ id: 'x' }] })).join('\n')).toMatch(
      /authorization\.clients\[0\].*exactly one of secretHash, jwks and jwksUri/,
    );
    expect(
      issues(() => load({ clients: [{ id: 'x', secretHash: hash, jwksUri: 'https://k.example/jwks' }] })),
    ).toHaveLength(1);
  });

  it('a client whose grant is off is reported at authorization.grants', () => {
    expect(
      issues(() => load({ clients: [{ id: 'bot', secretHash: hash, scopes: ['mcp:demo'] }] })).join('\n'),
    ).toMatch(/authorization\.grants: authorization\.clients\[0\] \(bot\) uses a grant that is off/);
  });

  it('an unknown scope and a taken client id are reported', () => {
    const found = issues(() =>
      load({
        grants: { clientCredentials: true },
        clients: [{ id: 'mcp-gateway-cli', secretHash: hash, scopes: ['mcp:nope'] }],
      }),
    ).join('\n');
    expect(found).toMatch(/authorization\.clients\[0\]\.id: client id "mcp-gateway-cli" is taken/);
    expect(found).toMatch(/authorization\.clients\[0\]\.scopes: "mcp:nope" is not a scope of any service/);
  });

  it('a trusted IdP needs exactly one of jwks and jwksUri', () => {
    expect(issues(() => load({ trustedIdps: [{ issuer: 'https://idp.example' }] })).join('\n')).toMatch(
      /authorization\.trustedIdps\[0\].*exactly one of jwks and jwksUri/,
    );
  });

  it('users lists: client:<id> matches only with client_credentials on; trusted IdP users are accepted', () => {
    const users = ['client:ops-bot', 'oidc:https://idp.example#emp-1'];
    const off = load({}, { services: { demo: { ...demo, users } } }).config;
    expect(subjectWarnings(off).join('\n')).toMatch(/client:ops-bot.*clientCredentials is off/);
    const on = load(
      {
        grants: { clientCredentials: true, jwtBearer: true },
        trustedIdps: [{ issuer: 'https://idp.example', jwksUri: 'https://idp.example/jwks' }],
      },
      { services: { demo: { ...demo, users } } },
    ).config;
    expect(subjectWarnings(on)).toEqual([]);
  });
});
