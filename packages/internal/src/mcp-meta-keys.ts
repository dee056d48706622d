// The `params._meta` keys of the MCP 2026-07-28 request envelope, one copy for the bridge and the
// client (inlined into each at build time).

/** `params._meta` keys of the 2026-07-28 per-request envelope (and of results: `serverInfo`, `subscriptionId`). */
export const MCP_META_KEYS = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;
