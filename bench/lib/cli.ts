// The built gateway CLI, run by the suites that prepare a gateway (users, tokens) before starting it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** `packages/gateway-kit/dist/cli.js` of this checkout. */
export const GATEWAY_CLI = path.join(import.meta.dirname, '../../packages/gateway-kit/dist/cli.js');

/** Runs `mcp-gateway <args>` in `cwd` (logging at warn) and returns its trimmed stdout; throws on failure. */
export function gatewayCli(cwd: string, args: string[]): string {
  const r = spawnSync(process.execPath, [GATEWAY_CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, MCP_GATEWAY__LOGGING__LEVEL: 'warn' },
  });
  if (r.status !== 0) throw new Error(`mcp-gateway ${args[0]}: ${r.stderr}`);
  return r.stdout.trim();
}
