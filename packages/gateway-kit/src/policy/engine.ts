import type { PoliciesConfig } from '../config/policy-schema.js';
import type { Identity } from '../identity.js';
import { compilePolicies, type CompiledPolicies, type CompiledPolicy, type CompiledRule } from './compile.js';
import type { ConditionInput } from './expression.js';

/** Who calls, as far as a policy looks: the user id, the OAuth client, the groups. */
export type PolicyIdentity = Pick<Identity, 'sub' | 'clientId' | 'groups'>;

/** Where a tool is used: a service by name, or a federated endpoint. */
export type PolicyTarget = string | { endpoint: string };

/** The MCP tool annotations a policy reads. */
export interface PolicyAnnotations {
  readOnlyHint?: boolean;
}

/** A tool as `tools/list` names it. */
export interface PolicyTool {
  name: string;
  annotations?: PolicyAnnotations | undefined;
}

/** The answer for one `tools/call`. */
export type CallDecision =
  | { allow: true }
  | {
      allow: false;
      /** `hidden`: the tool does not exist for this caller; `deny`: a rule or the default refused it. */
      decision: 'deny' | 'hidden';
      /** For the caller: the rule's `reason`, or a generic one. */
      reason: string;
    };

/** A refused call, for auditing. Never carries the arguments. */
export interface PolicyDecisionEvent {
  target: 'service' | 'endpoint';
  /** The service or endpoint name. */
  name: string;
  tool: string;
  sub: string;
  clientId?: string;
  decision: 'deny' | 'hidden';
  reason: string;
  /** Index of the deciding rule in the policy's `rules`; absent when the default decided. */
  rule?: number;
}

/** Options of {@link ToolPolicy}. */
export interface ToolPolicyOptions {
  /** Called for every refused call (structured; a throwing hook is ignored). */
  onDecision?: (event: PolicyDecisionEvent) => void;
}

const ALLOW: CallDecision = Object.freeze({ allow: true });
const NO_GROUPS: readonly string[] = Object.freeze([]);
const NO_ARGS: Record<string, unknown> = Object.freeze({});

/** Whether a rule's who, tool and read-only fields match (not its condition). */
function matches(
  rule: CompiledRule,
  who: PolicyIdentity,
  tool: string,
  readOnly: boolean | undefined,
): boolean {
  if (!rule.tools(tool)) return false;
  if (rule.readOnly !== undefined && rule.readOnly !== (readOnly === true)) return false;
  if (rule.users === undefined && rule.groups === undefined && rule.clients === undefined) return true;
  if (rule.users?.has(who.sub)) return true;
  if (who.clientId !== undefined && rule.clients?.has(who.clientId)) return true;
  const groups = rule.groups;
  if (groups !== undefined && who.groups !== undefined) {
    for (const g of who.groups) if (groups.has(g)) return true;
  }
  return false;
}

/** The first rule of `rules` matching the caller and tool (conditions not looked at). */
function firstMatch(
  rules: readonly CompiledRule[],
  who: PolicyIdentity,
  tool: string,
  readOnly: boolean | undefined,
): CompiledRule | undefined {
  for (const r of rules) if (matches(r, who, tool, readOnly)) return r;
  return undefined;
}

/**
 * Per-tool policy: which tools a caller sees in `tools/list` and which calls
 * go through, for each service and federated endpoint with a policy. Rules
 * match by user id, group or client id (any of those listed; none listed =
 * everyone), by tool name or glob, by the tool's `readOnlyHint`, and for calls
 * by a CEL condition over the arguments. `hide` beats `deny` beats `allow`;
 * a tool no rule allows gets the policy's default. A target without a policy
 * allows everything (the gateway's behaviour without `policies`).
 *
 * Per call: no parsing, no compiling; a few set lookups per rule and the
 * conditions of the rules that match.
 */
export class ToolPolicy {
  private constructor(
    private readonly compiled: CompiledPolicies,
    private readonly options: ToolPolicyOptions,
  ) {}

  /** Compiles `config` (validated by the config schema) once. */
  static fromConfig(config: PoliciesConfig, options: ToolPolicyOptions = {}): ToolPolicy {
    return new ToolPolicy(compilePolicies(config), options);
  }

  /** Whether `target` has a policy at all (without one, every tool is allowed). */
  has(target: PolicyTarget): boolean {
    return this.policyOf(target) !== undefined;
  }

  /** Whether a rule of `target`'s policy depends on a tool's `readOnlyHint` (its decisions need the annotations). */
  usesReadOnly(target: PolicyTarget): boolean {
    const p = this.policyOf(target);
    if (!p) return false;
    const any = (rules: readonly CompiledRule[]) => rules.some((r) => r.readOnly !== undefined);
    return any(p.hide) || any(p.deny) || any(p.allow);
  }

  /** The tools of a `tools/list` result the caller may see, in their order. */
  filterTools<T extends PolicyTool>(
    identity: PolicyIdentity,
    target: PolicyTarget,
    tools: readonly T[],
  ): T[] {
    const policy = this.policyOf(target);
    if (!policy) return [...tools];
    return tools.filter((t) => !hiddenBy(policy, identity, t.name, t.annotations?.readOnlyHint));
  }

  /**
   * The decision for one `tools/call`. `annotations` are the tool's from the
   * service's `tools/list` when known; without them the tool counts as not
   * read-only. Refusals go to `onDecision`.
   */
  checkCall(
    identity: PolicyIdentity,
    target: PolicyTarget,
    tool: string,
    args: Record<string, unknown> | undefined,
    annotations?: PolicyAnnotations,
  ): CallDecision {
    const policy = this.policyOf(target);
    if (!policy) return ALLOW;
    const readOnly = annotations?.readOnlyHint;
    if (hiddenBy(policy, identity, tool, readOnly))
      return this.refuse(
        target,
        identity,
        tool,
        'hidden',
        'tool not available',
        hideRule(policy, identity, tool, readOnly),
      );
    let input: ConditionInput | undefined;
    const conditionInput = () =>
      (input ??= {
        args: args ?? NO_ARGS,
        tool,
        sub: identity.sub,
        clientId: identity.clientId ?? '',
        groups: identity.groups ?? NO_GROUPS,
      });
    for (const rule of policy.deny) {
      if (!matches(rule, identity, tool, readOnly)) continue;
      // A condition that cannot be evaluated (missing argument, wrong type) counts as holding: deny.
      if (rule.when && !holds(rule, conditionInput(), true)) continue;
      return this.refuse(target, identity, tool, 'deny', rule.reason ?? 'refused by policy', rule);
    }
    for (const rule of policy.allow) {
      if (!matches(rule, identity, tool, readOnly)) continue;
      // ... and as not holding for an allow.
      if (rule.when && !holds(rule, conditionInput(), false)) continue;
      return ALLOW;
    }
    if (policy.default === 'allow') return ALLOW;
    return this.refuse(target, identity, tool, 'deny', 'not allowed by policy', undefined);
  }

  private policyOf(target: PolicyTarget): CompiledPolicy | undefined {
    return typeof target === 'string'
      ? this.compiled.services.get(target)
      : this.compiled.endpoints.get(target.endpoint);
  }

  private refuse(
    target: PolicyTarget,
    identity: PolicyIdentity,
    tool: string,
    decision: 'deny' | 'hidden',
    reason: string,
    rule: CompiledRule | undefined,
  ): CallDecision {
    const hook = this.options.onDecision;
    if (hook) {
      try {
        hook({
          ...(typeof target === 'string'
            ? { target: 'service', name: target }
            : { target: 'endpoint', name: target.endpoint }),
          tool,
          sub: identity.sub,
          ...(identity.clientId !== undefined ? { clientId: identity.clientId } : {}),
          decision,
          reason,
          ...(rule ? { rule: rule.index } : {}),
        });
      } catch {
        // Auditing must not change the decision.
      }
    }
    return { allow: false, decision, reason };
  }
}

/** `true` when the condition holds; `onError` when it cannot be evaluated. */
function holds(rule: CompiledRule, input: ConditionInput, onError: boolean): boolean {
  try {
    return rule.when!(input);
  } catch {
    return onError;
  }
}

function hideRule(
  policy: CompiledPolicy,
  who: PolicyIdentity,
  tool: string,
  readOnly: boolean | undefined,
): CompiledRule | undefined {
  return firstMatch(policy.hide, who, tool, readOnly);
}

/**
 * Whether the tool is hidden from the caller: a `hide` rule matches, or the
 * default is `hide` and no `allow` rule could allow it (one with a condition
 * could, so the tool stays listed).
 */
function hiddenBy(
  policy: CompiledPolicy,
  who: PolicyIdentity,
  tool: string,
  readOnly: boolean | undefined,
): boolean {
  if (firstMatch(policy.hide, who, tool, readOnly)) return true;
  return policy.default === 'hide' && !firstMatch(policy.allow, who, tool, readOnly);
}
