import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatewayConfigInput } from './schema.js';

/**
 * Path of the small stdio MCP server shipped with gateway-kit (`dist/demo-server.js`).
 * Looked up next to the running module (built) or in the package's `dist` (tests from source).
 */
export function demoServerPath(): string {
  const candidates = [
    new URL('./demo-server.js', import.meta.url),
    new URL('../../dist/demo-server.js', import.meta.url),
  ].map((u) => fileURLToPath(u));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/**
 * The services served when the config names none: the built-in fetch server at
 * `/fetch/mcp` and the bundled stdio demo server at `/demo/mcp`.
 */
export function defaultServices(): NonNullable<GatewayConfigInput['services']> {
  return {
    fetch: { type: 'fetch', title: 'Fetch web pages' },
    demo: {
      type: 'stdio',
      title: 'Demo stdio server (echo, add, whoami, time)',
      command: process.execPath,
      args: [demoServerPath()],
    },
  };
}
