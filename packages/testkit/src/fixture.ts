import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the built fixture stdio MCP server
 * (`packages/testkit/dist/fixture-mcp-server.js`). Resolved from the package
 * root, so it is the same whether the testkit is imported from `src` or `dist`.
 * Build the testkit first (`npx turbo run build --filter=@mcp-gateway/testkit`).
 */
export const fixtureMcpServerPath: string = fileURLToPath(
  new URL('../dist/fixture-mcp-server.js', import.meta.url),
);

/** The command and arguments that start the fixture server with this Node.js. */
export function fixtureMcpServerCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [fixtureMcpServerPath] };
}

/**
 * Absolute path of the built stdio port of the MCP conformance suite's reference
 * "everything-server" (`packages/testkit/dist/conformance-everything-server.js`,
 * from github.com/modelcontextprotocol/conformance v0.1.16; see its source header).
 */
export const conformanceEverythingServerPath: string = fileURLToPath(
  new URL('../dist/conformance-everything-server.js', import.meta.url),
);

/** The command and arguments that start the conformance everything-server with this Node.js. */
export function conformanceEverythingServerCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [conformanceEverythingServerPath] };
}

/**
 * Absolute path of the built 2026-07-28 conformance fixture
 * (`packages/testkit/dist/conformance-everything-server-2026.js`): the everything-server plus the
 * diagnostic tools and prompt the 0.2.0 suite's 2026-07-28 server scenarios call, still a 2025
 * stdio server (see its source header).
 */
export const conformanceEverythingServer2026Path: string = fileURLToPath(
  new URL('../dist/conformance-everything-server-2026.js', import.meta.url),
);

/** The command and arguments that start the 2026-07-28 conformance fixture with this Node.js. */
export function conformanceEverythingServer2026Command(): { command: string; args: string[] } {
  return { command: process.execPath, args: [conformanceEverythingServer2026Path] };
}
