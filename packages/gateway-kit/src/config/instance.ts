import type { GatewayConfig } from './schema.js';

/**
 * Warnings for `mcp-gateway config check` and start-up about running as one of
 * several instances: on Redis without `instanceId`, 2025 sessions of stdio
 * services and federated endpoints (held by the instance that opened them)
 * cannot be routed back by their id.
 */
export function instanceWarnings(config: GatewayConfig): string[] {
  if (config.store.type !== 'redis' || config.instanceId !== undefined) return [];
  const perInstance =
    config.federated.length > 0 ||
    config.admin.allowStdioServices ||
    Object.values(config.services).some((s) => s.type === 'stdio');
  if (!perInstance) return [];
  return [
    'instanceId: unset with store.type redis: if several gateways share this store, 2025 sessions of stdio services and federated endpoints live in the instance that opened them and need routing by instance; give each instance its own instanceId (MCP_GATEWAY__INSTANCE_ID) and route Mcp-Session-Id by its prefix',
  ];
}
