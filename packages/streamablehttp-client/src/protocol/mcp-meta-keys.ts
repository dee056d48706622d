// The `params._meta` keys of the MCP 2026-07-28 request envelope. Packages do not import each other,
// so this file is kept byte-identical in each package that ships a copy (the list and the check are in
// tests/shared-copies.test.ts): edit one, copy it over the others.

/** `params._meta` keys of the 2026-07-28 per-request envelope (and of results: `serverInfo`, `subscriptionId`). */
export const MCP_META_KEYS = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;
