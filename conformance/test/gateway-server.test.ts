import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { conformanceEverythingServerCommand, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The end-to-end tests' helpers: the gateway as a real child process, and the code flow with sign-in and consent.
import {
  authorizationCodeFlow,
  startGateway,
  tempDir,
  type RunningGateway,
} from '../../tests/gateway-helpers.js';
import { startBearerProxy } from './bearer-proxy.js';
import { expectServerScenarios } from './server-scenarios.js';

let gw: RunningGateway | undefined;
let proxy: Listening | undefined;

beforeAll(async () => {
  // A stdio service wrapping the suite's reference everything-server (testkit's stdio port).
  const server = conformanceEverythingServerCommand();
  const cwd = tempDir('gw-conformance-');
  await writeFile(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      'services:',
      '  everything:',
      '    type: stdio',
      `    command: ${JSON.stringify(server.command)}`,
      `    args: ${JSON.stringify(server.args)}`,
      '',
    ].join('\n'),
  );
  gw = await startGateway({ cwd });
  // A real sign-in: register, /authorize, the login and consent forms, /token.
  const { access_token } = await authorizationCodeFlow(
    gw.url,
    { username: 'admin', password: gw.adminPassword! },
    { resource: `${gw.url}/everything/mcp`, scope: 'mcp:everything' },
  );
  proxy = await startBearerProxy(gw.url, access_token);
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await gw?.cli.kill();
  if (gw) await rm(gw.cwd, { recursive: true, force: true });
});

describe('MCP conformance suite 0.1.16: server scenarios against a gateway-protected stdio service', () => {
  it('the service refuses a request without the token (401), so the suite runs against a protected endpoint', async () => {
    const res = await fetch(`${gw!.url}/everything/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('passes every server scenario (pending ones included) except those in expected-failures.gateway.json', async () => {
    await expectServerScenarios(`${proxy!.url}/everything/mcp`, 'expected-failures.gateway.json');
  });
});
