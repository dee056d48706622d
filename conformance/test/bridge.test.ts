import path from 'node:path';
import { conformanceEverythingServerCommand, killAllSpawned, spawnCli } from '@mcp-gateway/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectServerScenarios } from './server-scenarios.js';
import { workspace } from './suite.js';

const bridgeBin = path.resolve(workspace, '../packages/streamablehttp-proxy/bin/mcp-streamablehttp-proxy.js');
let url = '';

beforeAll(async () => {
  // The bridge with its defaults (loopback, Host checking on), one child per session:
  // the suite's reference everything-server, ported to stdio (testkit).
  const server = conformanceEverythingServerCommand();
  const bridge = spawnCli(process.execPath, [bridgeBin, '--port', '0', '--', server.command, ...server.args]);
  url = (await bridge.waitForOutput(/"msg":"listening","url":"([^"]+)"/, { timeoutMs: 30_000 }))[1]!;
});
afterAll(async () => {
  await killAllSpawned();
});

describe('MCP conformance suite 0.1.16: server scenarios against mcp-streamablehttp-proxy', () => {
  it('passes every server scenario (pending ones included) except those in expected-failures.bridge.json', async () => {
    await expectServerScenarios(url, 'expected-failures.bridge.json');
  });
});
