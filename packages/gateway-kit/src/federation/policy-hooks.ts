/**
 * The per-tool policy on a federated endpoint: the {@link FederationHooks} the gateway installs
 * unless `createGateway` is given its own. A call passes the endpoint's policy
 * (`policies.endpoints.<name>`, on the name the client sees) and then the owning service's
 * (`policies.services.<service>`, on the member's own name), exactly as a direct call to that
 * service would; a list shows only tools both let the caller see.
 */
import type { GatewayPolicy } from '../policy/gateway-policy.js';
import { endpointPolicyName } from './config.js';
import type { FederatedTool, FederationHooks } from './hooks.js';

/** Hooks applying `policy` to the endpoints of `endpoints` (`path` → policy name). */
export function policyHooks(
  policy: GatewayPolicy,
  endpoints: readonly { path: string; name?: string | undefined }[],
): FederationHooks {
  // Made once per endpoint, not per call.
  const targets = new Map(endpoints.map((e) => [e.path, { endpoint: endpointPolicyName(e) }]));
  const target = (path: string) => targets.get(path) ?? { endpoint: path.slice(1) };
  return {
    admitCall(call) {
      const endpoint = target(call.endpoint);
      // Neither the endpoint nor the service has a policy: nothing to decide (and nothing made for it).
      if (!policy.has(endpoint) && !policy.has(call.service)) return undefined;
      const decide = (annotations?: Record<string, unknown>) => {
        const asShown = { method: 'tools/call', params: { name: call.name, arguments: call.arguments } };
        const own = { method: 'tools/call', params: { name: call.tool, arguments: call.arguments } };
        const denied =
          policy.admitCall(call.identity, endpoint, asShown, annotations) ??
          policy.admitCall(call.identity, call.service, own, annotations);
        return denied?.jsonRpcError;
      };
      // `readOnly` rules need the tool's annotations: from the members' lists, not only a list this user saw.
      const needs = policy.usesReadOnly(endpoint) || policy.usesReadOnly(call.service);
      if (!needs || !call.annotations) return decide();
      return call.annotations().then(decide);
    },
    filterTools(ctx, tools) {
      const shown = policy.filterTools(ctx.identity, target(ctx.endpoint), {
        tools: tools.map((t) => t.tool),
      }).tools;
      const visible = new Set(shown.map((t) => t.name));
      const kept: FederatedTool[] = [];
      const byService = new Map<string, FederatedTool[]>();
      for (const t of tools) {
        if (!visible.has(t.name)) continue;
        const list = byService.get(t.service) ?? [];
        list.push(t);
        byService.set(t.service, list);
      }
      for (const [service, list] of byService) {
        const own = policy.filterTools(ctx.identity, service, {
          tools: list.map((t) => ({ ...t.tool, name: t.original })),
        }).tools;
        const allowed = new Set(own.map((t) => t.name));
        for (const t of list) if (allowed.has(t.original)) kept.push(t);
      }
      // Keep the endpoint's order.
      const order = new Map(tools.map((t, i) => [t, i]));
      return kept.sort((a, b) => order.get(a)! - order.get(b)!);
    },
  };
}
