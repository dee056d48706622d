import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import type { WebhookDispatcher } from '../ops/webhooks.js';
import type { PolicyDecisionEvent } from './engine.js';

/** Longest tool name written to a log line (the name comes from the client). */
const MAX_LOGGED_TOOL = 128;

/**
 * The audit of refused calls: one structured log line per refusal (`tool call
 * refused by policy`, with the service or endpoint, tool, user id, client id,
 * decision, reason and deciding rule; never the arguments or a token),
 * {@link GatewayMetrics.policyDenials}, and a `tool_call` webhook event
 * `tool.denied` with the same fields. Hand it to the policy as `onDecision`.
 */
export function policyAudit(
  log: Logger,
  metrics: GatewayMetrics,
  webhooks?: WebhookDispatcher,
): (event: PolicyDecisionEvent) => void {
  return (e) => {
    metrics.policyDenials.inc({ target: e.target, name: e.name, decision: e.decision });
    const fields = {
      [e.target]: e.name,
      tool: e.tool.length > MAX_LOGGED_TOOL ? `${e.tool.slice(0, MAX_LOGGED_TOOL)}…` : e.tool,
      user: e.sub,
      ...(e.clientId !== undefined ? { client: e.clientId } : {}),
      decision: e.decision,
      reason: e.reason,
      rule: e.rule ?? 'default',
    };
    log.warn('tool call refused by policy', fields);
    if (webhooks?.wants('tool_call'))
      webhooks.emit({ type: 'tool_call', action: 'tool.denied', data: fields });
  };
}
