import type { PoliciesConfig, PolicyRuleConfig, ToolPolicyConfig } from '../config/policy-schema.js';
import { compileCondition, type Condition } from './expression.js';
import { toolMatcher, type ToolMatcher } from './tool-pattern.js';

/** What a rule or a default does to a tool. */
export type PolicyEffect = 'allow' | 'deny' | 'hide';

/** A rule ready to evaluate: sets and matchers built once, the condition compiled once. */
export interface CompiledRule {
  /** Position in the policy's `rules` (for audit events). */
  index: number;
  effect: PolicyEffect;
  tools: ToolMatcher;
  /** `undefined` for all three: the rule applies to everyone. */
  users: ReadonlySet<string> | undefined;
  groups: ReadonlySet<string> | undefined;
  clients: ReadonlySet<string> | undefined;
  readOnly: boolean | undefined;
  when: Condition | undefined;
  reason: string | undefined;
}

/** The policy of one service or endpoint, compiled. */
export interface CompiledPolicy {
  default: PolicyEffect;
  /** Rules by effect, in config order: hide, deny and allow are looked at in that order. */
  hide: readonly CompiledRule[];
  deny: readonly CompiledRule[];
  allow: readonly CompiledRule[];
}

/** Every policy of the config, compiled. */
export interface CompiledPolicies {
  services: ReadonlyMap<string, CompiledPolicy>;
  endpoints: ReadonlyMap<string, CompiledPolicy>;
}

const setOf = (list: readonly string[] | undefined) => (list ? new Set(list) : undefined);

function compileRule(rule: PolicyRuleConfig, index: number): CompiledRule {
  return {
    index,
    effect: rule.effect,
    tools: toolMatcher(rule.tools),
    users: setOf(rule.users),
    groups: setOf(rule.groups),
    clients: setOf(rule.clients),
    readOnly: rule.readOnly,
    // Validated by the config schema; a condition that no longer compiles throws here, at load.
    when: rule.when === undefined ? undefined : compileCondition(rule.when),
    reason: rule.reason,
  };
}

/** Compiles one policy (validated by `toolPolicySchema`). */
export function compilePolicy(policy: ToolPolicyConfig): CompiledPolicy {
  const rules = policy.rules.map(compileRule);
  return {
    default: policy.default,
    hide: rules.filter((r) => r.effect === 'hide'),
    deny: rules.filter((r) => r.effect === 'deny'),
    allow: rules.filter((r) => r.effect === 'allow'),
  };
}

/** Compiles the config's `policies` (validated by `policiesSchema`), once at load. */
export function compilePolicies(config: PoliciesConfig): CompiledPolicies {
  const each = (m: Record<string, ToolPolicyConfig>) =>
    new Map(Object.entries(m).map(([name, p]) => [name, compilePolicy(p)]));
  return { services: each(config.services), endpoints: each(config.endpoints) };
}
