import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { hashSecret } from '@mcp-gateway/oauth-dynamicclient';
import {
  killAllSpawned,
  spawnCli,
  startEnterpriseIdpStub,
  type EnterpriseIdpStub,
} from '@mcp-gateway/testkit';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayCli, repoRoot, startGateway, tempDir, type RunningGateway } from './gateway-helpers.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const secrets = {
  ops: 'ops-bot-secret-0123456789abcdef',
  other: 'other-secret-0123456789abcdef',
  app: 'app-secret-0123456789abcdef',
};

let gw: RunningGateway;
let idp: EnterpriseIdpStub;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  idp = await startEnterpriseIdpStub({
    clients: [{ clientId: 'idp-client', clientSecret: 'idp-secret', resourceClientId: 'mcp-app' }],
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
      `    users: [client:ops-bot, ${JSON.stringify(`oidc:${idp.issuer}#emp-9`)}]`,
      'authorization:',
      '  grants: { clientCredentials: true, jwtBearer: true }',
      '  keyFetch: { allowLoopback: true }',
      '  trustedIdps:',
      `    - { issuer: ${JSON.stringify(idp.issuer)}, jwksUri: ${JSON.stringify(idp.jwksUri)} }`,
      '  clients:',
      `    - { id: ops-bot, secretHash: ${await hashSecret(secrets.ops)}, scopes: [mcp:demo] }`,
      `    - { id: other-bot, secretHash: ${await hashSecret(secrets.other)}, scopes: [mcp:demo] }`,
      `    - { id: mcp-app, secretHash: ${await hashSecret(secrets.app)}, grants: [jwt-bearer] }`,
      '',
    ].join('\n'),
  );
  gw = await startGateway({ cwd });
  as = await oauth.processDiscoveryResponse(
    new URL(gw.url),
    await oauth.discoveryRequest(new URL(gw.url), insecure),
  );
});

afterAll(async () => {
  await killAllSpawned();
  await idp?.close();
});

async function whoami(token: string): Promise<string> {
  const client = new Client({ name: 'machine-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.url}/demo/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    return (JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { id: string }).id;
  } finally {
    await client.close();
  }
}

async function clientCredentials(id: string, secret: string) {
  const client = { client_id: id };
  const res = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(secret),
    { resource: `${gw.url}/demo/mcp` },
    insecure,
  );
  return oauth.processClientCredentialsResponse(as, client, res);
}

describe('mcp-gateway from a config file: machine clients and enterprise IdPs', () => {
  it('client_credentials (oauth4webapi): the token calls a tool through the gateway as client:<id>', async () => {
    const tokens = await clientCredentials('ops-bot', secrets.ops);
    expect(tokens.refresh_token).toBeUndefined();
    expect(await whoami(tokens.access_token)).toBe('client:ops-bot');
  });

  it("the service's users list refuses a machine client it does not name", async () => {
    const tokens = await clientCredentials('other-bot', secrets.other);
    const res = await fetch(`${gw.url}/demo/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe('access_denied');
  });

  it('jwt-bearer (oauth4webapi): an ID-JAG from the trusted IdP reaches the service as oidc:<issuer>#<sub>', async () => {
    const exchange = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        subject_token: await idp.idToken('emp-9', 'idp-client'),
        audience: gw.url,
        resource: `${gw.url}/demo/mcp`,
        client_id: 'idp-client',
        client_secret: 'idp-secret',
      }),
    });
    const jag = ((await exchange.json()) as { access_token: string }).access_token;
    const client = { client_id: 'mcp-app' };
    const res = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.ClientSecretBasic(secrets.app),
      JWT_BEARER,
      { assertion: jag },
      insecure,
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, client, res);
    expect(await whoami(tokens.access_token)).toBe(`oidc:${idp.issuer}#emp-9`);
  });

  it('config check names a machine client whose grant is off', async () => {
    const cwd = tempDir();
    writeFileSync(
      path.join(cwd, 'm2m.yaml'),
      `authorization:\n  clients:\n    - { id: bot, secretHash: ${'a'.repeat(43)} }\n`,
    );
    const p = spawnCli(process.execPath, [gatewayCli, 'config', 'check', '--config', 'm2m.yaml'], {
      cwd,
      env: {},
    });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr).toMatch(
      /authorization\.grants: authorization\.clients\[0\] \(bot\) uses a grant that is off/,
    );
  });
});
