export {
  ToolPolicy,
  type CallDecision,
  type PolicyAnnotations,
  type PolicyDecisionEvent,
  type PolicyIdentity,
  type PolicyTarget,
  type PolicyTool,
  type ToolPolicyOptions,
} from './engine.js';
export { PolicyDeniedError } from './denied.js';
export { compileCondition, ConditionError, type Condition, type ConditionInput } from './expression.js';
export { toolMatcher, TOOL_PATTERN } from './tool-pattern.js';
export { filterToolsResult, refusal, ToolAnnotations, type PolicyMessage } from './mcp-messages.js';
export {
  GatewayPolicy,
  PolicyInputError,
  RUNTIME_POLICIES_KEY,
  type GatewayPolicyOptions,
} from './gateway-policy.js';
export { policyAudit } from './audit.js';
