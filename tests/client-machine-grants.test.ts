import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashSecret } from '@mcp-gateway/oauth-dynamicclient';
import {
  killAllSpawned,
  spawnCli,
  startEnterpriseIdpStub,
  type EnterpriseIdpStub,
} from '@mcp-gateway/testkit';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCli, repoRoot, startGateway, tempDir, type RunningGateway } from './gateway-helpers.js';

// Our client against our gateway, with the grants that need no browser (issue 15):
// client_credentials with a secret and with private_key_jwt, and cross-app access (ID-JAG).
const secrets = {
  ops: 'ops-bot-secret-0123456789abcdef',
  app: 'app-secret-0123456789abcdef',
};

let gw: RunningGateway;
let idp: EnterpriseIdpStub;
let keyFile: string;

beforeAll(async () => {
  idp = await startEnterpriseIdpStub({
    clients: [{ clientId: 'idp-client', clientSecret: 'idp-secret', resourceClientId: 'mcp-app' }],
  });
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-bot-1', alg: 'ES256' };
  const cwd = tempDir();
  keyFile = path.join(cwd, 'key-bot.pem');
  writeFileSync(keyFile, await exportPKCS8(pair.privateKey), { mode: 0o600 });
  writeFileSync(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      'services:',
      '  demo:',
      '    type: stdio',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(path.join(repoRoot, 'packages/gateway-kit/dist/demo-server.js'))}]`,
      `    users: [client:ops-bot, client:key-bot, ${JSON.stringify(`oidc:${idp.issuer}#emp-3`)}]`,
      'authorization:',
      '  grants: { clientCredentials: true, jwtBearer: true }',
      '  keyFetch: { allowLoopback: true }',
      '  trustedIdps:',
      `    - { issuer: ${JSON.stringify(idp.issuer)}, jwksUri: ${JSON.stringify(idp.jwksUri)} }`,
      '  clients:',
      `    - { id: ops-bot, secretHash: ${await hashSecret(secrets.ops)}, scopes: [mcp:demo] }`,
      `    - { id: key-bot, jwks: ${JSON.stringify({ keys: [jwk] })}, scopes: [mcp:demo] }`,
      `    - { id: mcp-app, secretHash: ${await hashSecret(secrets.app)}, grants: [jwt-bearer] }`,
      '',
    ].join('\n'),
  );
  gw = await startGateway({ cwd });
});

afterAll(async () => {
  await killAllSpawned();
  await idp?.close();
});

/** `mcp-streamablehttp-client tools call whoami` with a fresh credentials folder; the caller id it prints. */
async function whoami(flags: string[]): Promise<{ code: number | null; id?: string; stderr: string }> {
  const p = spawnCli(
    process.execPath,
    [clientCli, 'tools', 'call', 'whoami', '--url', `${gw.url}/demo/mcp`, ...flags],
    { env: { MCP_STREAMABLEHTTP_CLIENT_HOME: tempDir() } },
  );
  const { code } = await p.exited;
  const id = /"id"\s*:\s*"([^"]+)"/.exec(p.stdout)?.[1];
  return { code, ...(id ? { id } : {}), stderr: p.stderr };
}

describe('mcp-streamablehttp-client against the gateway: grants without a browser', () => {
  it('--grant client-credentials with a secret: the tool runs as client:<id>', async () => {
    const r = await whoami([
      '--grant',
      'client-credentials',
      '--client-id',
      'ops-bot',
      '--client-secret',
      secrets.ops,
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.id).toBe('client:ops-bot');
  });

  it('--grant client-credentials --private-key: private_key_jwt against the jwks in the config', async () => {
    const r = await whoami([
      '--grant',
      'client-credentials',
      '--client-id',
      'key-bot',
      '--private-key',
      keyFile,
    ]);
    expect(r.code).toBe(0);
    expect(r.id).toBe('client:key-bot');
  });

  it('--grant client-credentials with a wrong secret fails, naming the token endpoint and invalid_client', async () => {
    const r = await whoami([
      '--grant',
      'client-credentials',
      '--client-id',
      'ops-bot',
      '--client-secret',
      'wrong-secret-0123456789',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.id).toBeUndefined();
    expect(r.stderr).toContain(`${gw.url}/token`);
    expect(r.stderr, r.stderr).toMatch(/invalid_client/);
  });

  it('--grant id-jag: an ID-JAG from the enterprise IdP, then jwt-bearer at the gateway, runs as oidc:<issuer>#<sub>', async () => {
    const r = await whoami([
      '--grant',
      'id-jag',
      '--client-id',
      'mcp-app',
      '--client-secret',
      secrets.app,
      '--idp-token-endpoint',
      idp.tokenEndpoint,
      '--idp-client-id',
      'idp-client',
      '--idp-client-secret',
      'idp-secret',
      '--idp-id-token',
      await idp.idToken('emp-3', 'idp-client'),
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.id).toBe(`oidc:${idp.issuer}#emp-3`);
  });
});
