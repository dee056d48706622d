import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  conformanceEverythingServer2026Command,
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
import { REVISION, expectRequiredServerScenarios } from './server-scenarios-2026.js';
import { workspace } from './suite.js';

// MCP 2026-07-28 served from 2025 stdio servers: the bridge (and the gateway, which runs the
// bridge for its stdio services) answers the stateless wire from pooled, initialized 2025
// children and turns their sampling/elicitation/roots requests into input_required results.
// Targets: the suite's v0.1.16 everything-server (testkit's stdio port), which lacks the 2026
// diagnostic tools, and testkit's 2026 fixture (the same server plus those tools), bare and
// gateway-protected.
const everything = conformanceEverythingServerCommand();
const fixture2026 = conformanceEverythingServer2026Command();
const bridgeBin = path.resolve(workspace, '../packages/streamablehttp-proxy/bin/mcp-streamablehttp-proxy.js');
const FILE_0116 = 'expected-failures.bridge-2026.json';

let bridge0116 = '';
let bridge2026 = '';
let gw: RunningGateway | undefined;
let proxy: Listening | undefined;

/** The bridge with its defaults (loopback, Host checking on) over `server`. */
async function startBridge(server: { command: string; args: string[] }): Promise<string> {
  const bridge = spawnCli(process.execPath, [bridgeBin, '--port', '0', '--', server.command, ...server.args]);
  return (await bridge.waitForOutput(/"msg":"listening","url":"([^"]+)"/, { timeoutMs: 30_000 }))[1]!;
}

/** The gateway with one stdio service (the 2026 fixture), and a loopback proxy adding a token from a real sign-in. */
async function startProtectedService(): Promise<void> {
  const cwd = tempDir('gw-conformance-2026-');
  await writeFile(
    path.join(cwd, 'mcp-gateway.yaml'),
    [
      'services:',
      '  everything:',
      '    type: stdio',
      `    command: ${JSON.stringify(fixture2026.command)}`,
      `    args: ${JSON.stringify(fixture2026.args)}`,
      '',
    ].join('\n'),
  );
  gw = await startGateway({ cwd });
  const { access_token } = await authorizationCodeFlow(
    gw.url,
    { username: 'admin', password: gw.adminPassword! },
    { resource: `${gw.url}/everything/mcp`, scope: 'mcp:everything' },
  );
  proxy = await startBearerProxy(gw.url, access_token);
}

beforeAll(async () => {
  [bridge0116, bridge2026] = await Promise.all([
    startBridge(everything),
    startBridge(fixture2026),
    startProtectedService(),
  ]);
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await killAllSpawned(); // the bridges and the gateway, with their children
  if (gw) await rm(gw.cwd, { recursive: true, force: true });
});

// The suite runs one scenario at a time; the targets run side by side (the tests are concurrent).
describe.concurrent(
  `MCP conformance suite 0.2.0-alpha.12, --requirements ${REVISION}: server scenarios over stdio servers`,
  () => {
    it(`mcp-streamablehttp-proxy over the v0.1.16 everything-server: every required scenario passes except the diagnostic-tool ones in ${FILE_0116}`, async () => {
      await expectRequiredServerScenarios(bridge0116, FILE_0116);
    });

    it('mcp-streamablehttp-proxy over the 2026 fixture (a 2025 stdio server with the diagnostic tools): all 37 required scenarios pass', async () => {
      await expectRequiredServerScenarios(bridge2026, undefined);
    });

    it('gateway-protected stdio service (the 2026 fixture): all 37 required scenarios pass', async () => {
      await expectRequiredServerScenarios(`${proxy!.url}/everything/mcp`, undefined);
    });

    it('gateway-protected stdio service: refuses a 2026 request without the token (401)', async () => {
      const meta = {
        'io.modelcontextprotocol/protocolVersion': REVISION,
        'io.modelcontextprotocol/clientCapabilities': {},
      };
      const res = await fetch(`${gw!.url}/everything/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': REVISION,
          'mcp-method': 'server/discover',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });
  },
);
