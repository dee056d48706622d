import { rm } from 'node:fs/promises';
import { conformanceEverythingServerCommand, killAllSpawned, type Listening } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../tests/gateway-helpers.js';
import { expectServerScenarios } from './server-scenarios.js';
import { startBridgeOver, startProtectedStdioService } from './stdio-targets.js';

// Both targets run the suite's reference everything-server (testkit's stdio port) as a stdio child.
const server = conformanceEverythingServerCommand();

let bridgeUrl = '';
let gw: RunningGateway | undefined;
let proxy: Listening | undefined;

beforeAll(async () => {
  let service: Awaited<ReturnType<typeof startProtectedStdioService>>;
  [bridgeUrl, service] = await Promise.all([startBridgeOver(server), startProtectedStdioService(server)]);
  ({ gw, proxy } = service);
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
