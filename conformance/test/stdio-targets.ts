import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnCli, type Listening } from '@mcp-gateway/testkit';
// The end-to-end tests' helpers: the gateway as a real child process, and the code flow with sign-in and consent.
import {
  authorizationCodeFlow,
  startGateway,
  tempDir,
  type RunningGateway,
} from '../../tests/gateway-helpers.js';
import { startBearerProxy } from './bearer-proxy.js';
import { workspace } from './suite.js';

/** A stdio MCP server to start: command and arguments. */
export interface StdioServer {
  command: string;
  args: string[];
}

const bridgeBin = path.resolve(workspace, '../packages/streamablehttp-proxy/bin/mcp-streamablehttp-proxy.js');

/** The bridge's built bin with its defaults (loopback, Host checking on) over `server`; its MCP URL. */
export async function startBridgeOver(server: StdioServer): Promise<string> {
  const bridge = spawnCli(process.execPath, [bridgeBin, '--port', '0', '--', server.command, ...server.args]);
  return (await bridge.waitForOutput(/"msg":"listening","url":"([^"]+)"/, { timeoutMs: 30_000 }))[1]!;
}

/**
 * The gateway with one stdio service, `everything`, running `server`, and a loopback proxy that
 * adds an access token from a real sign-in (register, /authorize, the login and consent forms,
 * /token with PKCE). The suite reaches the service at `${proxy.url}/everything/mcp`.
 */
export async function startProtectedStdioService(
  server: StdioServer,
): Promise<{ gw: RunningGateway; proxy: Listening }> {
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
  const gw = await startGateway({ cwd });
  const { access_token } = await authorizationCodeFlow(
    gw.url,
    { username: 'admin', password: gw.adminPassword! },
    { resource: `${gw.url}/everything/mcp`, scope: 'mcp:everything' },
  );
  return { gw, proxy: await startBearerProxy(gw.url, access_token) };
}
