import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { killAllSpawned, spawnCli, waitFor, type SpawnedCli } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, loginAndConsent, startGateway, tempDir, type RunningGateway } from './gateway-helpers.js';

let redisPort: number;
const redisDir = tempDir('gw-redis-');
let redis: SpawnedCli | undefined;
let a: RunningGateway;
let b: RunningGateway;

/** redis-server without periodic persistence (`--save ''`); a SHUTDOWN SAVE still writes its data for the restart. */
async function startRedis(): Promise<void> {
  redis = spawnCli('redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    redisDir,
  ]);
  await redis.waitForOutput(/Ready to accept connections/);
}

beforeAll(async () => {
  redisPort = await freePort();
  await startRedis();
  const portA = await freePort();
  const env = {
    MCP_GATEWAY__STORE: JSON.stringify({ type: 'redis', url: `redis://127.0.0.1:${redisPort}` }),
    // One public URL for both instances, as behind a load balancer.
    MCP_GATEWAY__ISSUER: `http://127.0.0.1:${portA}`,
  };
  a = await startGateway({ env, port: portA });
  b = await startGateway({ env });
});

afterAll(async () => {
  await killAllSpawned();
});

const b64url = (buf: Buffer) => buf.toString('base64url');

async function register(base: string) {
  const res = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Two-instance app',
      redirect_uris: ['http://127.0.0.1:9/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  return res;
}

const initialize = (base: string, token: string) =>
  fetch(`${base}/demo/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    }),
  });

describe('two gateways on one Redis', () => {
  let clientId: string;
  let registration: { registration_access_token: string; registration_client_uri: string };
  let refreshToken: string;

  it('a client registered on one instance authorizes on the other; a token revoked on one is refused by the other', async () => {
    expect(a.adminPassword).toBeTruthy();
    expect(b.adminPassword).toBeUndefined(); // the admin user is shared, not created twice
    const reg = await register(a.url);
    expect(reg.status).toBe(201);
    const body = (await reg.json()) as {
      client_id: string;
      registration_access_token: string;
      registration_client_uri: string;
    };
    clientId = body.client_id;
    registration = body;
    const verifier = b64url(randomBytes(32));
    const authorize = new URL(`${b.url}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:9/cb',
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      state: 's',
      resource: `${a.url}/demo/mcp`,
      scope: 'mcp:demo',
    }).toString();
    const back = await loginAndConsent(
      authorize.href,
      { username: 'admin', password: a.adminPassword! },
      { gatewayOrigins: [a.url, b.url] },
    );
    const tokenRes = await fetch(`${b.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: 'http://127.0.0.1:9/cb',
        client_id: clientId,
        code_verifier: verifier,
        resource: `${a.url}/demo/mcp`,
      }),
    });
    expect(tokenRes.status, await tokenRes.clone().text()).toBe(200);
    const tokens = (await tokenRes.json()) as { access_token: string; refresh_token: string };
    refreshToken = tokens.refresh_token;
    for (const base of [a.url, b.url]) {
      const ok = await initialize(base, tokens.access_token);
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
    }
    const revoke = await fetch(`${a.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens.access_token,
        token_type_hint: 'access_token',
        client_id: clientId,
      }),
    });
    expect(revoke.status, await revoke.clone().text()).toBe(200);
    const refused = await initialize(b.url, tokens.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }, 120_000);

  it('Redis stopped: 503 temporarily_unavailable and /readyz says store false; restarted: recovery with nothing lost', async () => {
    execFileSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'save']);
    await redis!.exited;
    const down = await register(b.url);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(await down.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the store is unavailable; try again shortly',
    });
    const ready = await fetch(`${b.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { store: boolean } }).checks.store).toBe(false);
    // Both gateways are still up.
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);

    await startRedis();
    // Each instance reconnects on its own schedule: wait until both say ready.
    for (const base of [a.url, b.url]) {
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
    }
    // The client registered before the outage is intact (RFC 7592 read) on both instances...
    for (const base of [a.url, b.url]) {
      const read = await fetch(registration.registration_client_uri.replace(a.url, base), {
        headers: { authorization: `Bearer ${registration.registration_access_token}` },
      });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { client_id: string }).client_id).toBe(clientId);
    }
    // ...and so is its refresh token.
    const refreshed = await fetch(`${b.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: clientId,
        resource: `${a.url}/demo/mcp`,
      }),
    });
    expect(refreshed.status, await refreshed.clone().text()).toBe(200);
    expect((await register(a.url)).status).toBe(201);
  }, 120_000);
});
