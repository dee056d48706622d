import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  conformanceEverythingServerCommand,
  killAllSpawned,
  spawnCli,
  type Listening,
} from '@mcp-gateway/testkit';
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
import { workspace } from './suite.js';

// Both targets run the suite's reference everything-server (testkit's stdio port) as a stdio child.
const server = conformanceEverythingServerCommand();
const bridgeBin = path.resolve(workspace, '../packages/streamablehttp-proxy/bin/mcp-streamablehttp-proxy.js');

let bridgeUrl = '';
let gw: RunningGateway | undefined;
let proxy: Listening | undefined;

/** The bridge with its defaults (loopback, Host checking on), one child per session. */
async function startBridge(): Promise<string> {
  const bridge = spawnCli(process.execPath, [bridgeBin, '--port', '0', '--', server.command, ...server.args]);
  return (await bridge.waitForOutput(/"msg":"listening","url":"([^"]+)"/, { timeoutMs: 30_000 }))[1]!;
}

/** The gateway with one stdio service, `everything`, and a loopback proxy adding a token from a real sign-in. */
async function startProtectedService(): Promise<void> {
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
  // Register, /authorize, the login and consent forms, /token with PKCE.
  const { access_token } = await authorizationCodeFlow(
    gw.url,
    { username: 'admin', password: gw.adminPassword! },
    { resource: `${gw.url}/everything/mcp`, scope: 'mcp:everything' },
  );
  proxy = await startBearerProxy(gw.url, access_token);
}

beforeAll(async () => {
  [bridgeUrl] = await Promise.all([startBridge(), startProtectedService()]);
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await killAllSpawned(); // the bridge and the gateway, with their children
  if (gw) await rm(gw.cwd, { recursive: true, force: true });
});

// The suite runs one scenario at a time; the two targets run side by side (the tests are concurrent).
describe.concurrent('MCP conformance suite 0.1.16: server scenarios', () => {
  it('mcp-streamablehttp-proxy: every scenario (pending ones included) passes except those in expected-failures.bridge.json', async () => {
    await expectServerScenarios(bridgeUrl, 'expected-failures.bridge.json');
  });

  it('gateway-protected stdio service: every scenario (pending ones included) passes except those in expected-failures.gateway.json', async () => {
    await expectServerScenarios(`${proxy!.url}/everything/mcp`, 'expected-failures.gateway.json');
  });

  it('gateway-protected stdio service: refuses a request without the token (401), so the suite runs against a protected endpoint', async () => {
    const res = await fetch(`${gw!.url}/everything/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });
});
