import { rm } from 'node:fs/promises';
import {
  conformanceEverythingServer2026Command,
  conformanceEverythingServerCommand,
  killAllSpawned,
  type Listening,
} from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../tests/gateway-helpers.js';
import { REVISION, expectRequiredServerScenarios } from './server-scenarios-2026.js';
import { startBridgeOver, startProtectedStdioService } from './stdio-targets.js';

// MCP 2026-07-28 served from 2025 stdio servers: the bridge (and the gateway, which runs the
// bridge for its stdio services) answers the stateless wire from pooled, initialized 2025
// children and turns their sampling/elicitation/roots requests into input_required results.
// Targets: the suite's v0.1.16 everything-server (testkit's stdio port), which lacks the 2026
// diagnostic tools, and testkit's 2026 fixture (the same server plus those tools), bare and
// gateway-protected.
const everything = conformanceEverythingServerCommand();
const fixture2026 = conformanceEverythingServer2026Command();
const FILE_0116 = 'expected-failures.bridge-2026.json';

let bridge0116 = '';
let bridge2026 = '';
let gw: RunningGateway | undefined;
let proxy: Listening | undefined;

beforeAll(async () => {
  let service: Awaited<ReturnType<typeof startProtectedStdioService>>;
  [bridge0116, bridge2026, service] = await Promise.all([
    startBridgeOver(everything),
    startBridgeOver(fixture2026),
    startProtectedStdioService(fixture2026),
  ]);
  ({ gw, proxy } = service);
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
