import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '@mcp-gateway/testkit';
import { doctor, EXIT_CODES } from '../src/index.js';
import { cli } from './helpers/cli.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';
import { startFakeServer, json, goodPrm } from './helpers/fake-as.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const statusOf = (r: Awaited<ReturnType<typeof doctor>>) =>
  Object.fromEntries(r.checks.map((c) => [c.id, c.status]));

describe('doctor', () => {
  it('doctor: a good server (MCP SDK auth) passes every check a client needs, exit 0', async () => {
    const s = await startSdkOAuthServer({ requiredScopes: ['mcp:tools'] });
    closers.push(() => s.close());
    const report = await doctor(s.mcpUrl);
    expect(report.ok).toBe(true);
    expect(statusOf(report)).toMatchObject({
      reachable: 'pass',
      challenge: 'pass',
      'json-errors': 'pass',
      'resource-metadata-pointer': 'pass',
      'resource-metadata': 'pass',
      'authorization-server-metadata': 'pass',
      issuer: 'pass',
      endpoints: 'pass',
      pkce: 'pass',
      registration: 'pass',
    });
    // The registration probe registered nothing.
    expect((s.provider.clientsStore as unknown as { clients: Map<string, unknown> }).clients.size).toBe(0);
    const run = await cli(['doctor', '--url', s.mcpUrl]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ PKCE S256 advertised: code_challenge_methods_supported: S256/);
    expect(run.stdout).toContain('OK: a client has what it needs.');
  });

  it('doctor: a broken server (no resource_metadata, HTML 401, no PKCE, closed registration, no CORS) fails, exit 1', async () => {
    const s = await startFakeServer({
      '/mcp': () =>
        new Response('<html><title>Unauthorized</title></html>', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/html' },
        }),
      '/.well-known/oauth-protected-resource/mcp': goodPrm,
      '/.well-known/oauth-authorization-server': (_r, base) =>
        json({
          issuer: `${base}/`,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
        }),
      '/register': () => json({ error: 'invalid_token' }, 401),
    });
    closers.push(() => s.close());
    const report = await doctor(`${s.url}/mcp`);
    expect(report.ok).toBe(false);
    expect(statusOf(report)).toMatchObject({
      challenge: 'pass',
      'json-errors': 'warn',
      'resource-metadata-pointer': 'warn',
      'cors-expose': 'warn',
      'resource-metadata': 'pass',
      issuer: 'pass',
      pkce: 'fail',
      registration: 'fail',
    });
    expect(report.checks.find((c) => c.id === 'registration')!.detail).toBe(
      `${s.url}/register requires an initial access token (HTTP 401)`,
    );
    const run = await cli(['doctor', '--url', `${s.url}/mcp`, '--json']);
    expect(run.code).toBe(EXIT_CODES.server);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false });
  });

  it('doctor: issuer mismatch and missing metadata are failures', async () => {
    const s = await startFakeServer({
      '/mcp': (_r, base) =>
        json({ error: 'invalid_token' }, 401, {
          'www-authenticate': `Bearer resource_metadata="${base}/prm"`,
        }),
      '/prm': goodPrm,
      '/.well-known/oauth-authorization-server': () => json({ issuer: 'https://evil.example/' }),
    });
    closers.push(() => s.close());
    const report = await doctor(`${s.url}/mcp`);
    expect(statusOf(report)).toMatchObject({ issuer: 'fail' });
    const bare = await startFakeServer({
      '/mcp': () => json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'Bearer' }),
    });
    closers.push(() => bare.close());
    expect(statusOf(await doctor(`${bare.url}/mcp`))).toMatchObject({ 'resource-metadata': 'fail' });
  });

  it('doctor: unreachable and non-MCP endpoints fail at the first check', async () => {
    const dead = await listen(() => new Response(''));
    await dead.close();
    const r1 = await doctor(`${dead.url}/mcp`);
    expect(r1).toMatchObject({ ok: false, checks: [{ id: 'reachable', status: 'fail' }] });
    const site = await startFakeServer({
      '/mcp': () =>
        new Response('<html><title>Home</title></html>', {
          status: 404,
          headers: { 'content-type': 'text/html' },
        }),
    });
    closers.push(() => site.close());
    const r2 = await doctor(`${site.url}/mcp`);
    expect(r2.checks.at(-1)).toEqual({
      id: 'challenge',
      title: '401 challenge',
      status: 'fail',
      detail:
        'expected 401 with WWW-Authenticate for an unauthenticated request, got HTTP 404 with an HTML page ("Home")',
    });
  });
});
