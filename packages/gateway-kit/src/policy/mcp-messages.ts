import { PolicyDeniedError } from './denied.js';
import type { PolicyAnnotations, PolicyIdentity, PolicyTarget, PolicyTool, ToolPolicy } from './engine.js';

/**
 * The policy steps of the MCP route, on messages it has already parsed, so
 * that wiring the policy in is two calls: {@link refusal} before a request is
 * forwarded, {@link filterToolsResult} on a `tools/list` result on its way
 * back. Both do nothing (and allocate nothing) for a target without a policy.
 */

/** Most tools whose annotations are remembered per target. */
const MAX_TOOLS_PER_TARGET = 1000;

/**
 * The annotations of each target's tools, learnt from its `tools/list`
 * results, for `readOnly` rules on later `tools/call`s (a call carries no
 * annotations). Bounded: a list replaces what was known, and at most
 * {@link MAX_TOOLS_PER_TARGET} tools are kept per target.
 */
export class ToolAnnotations {
  private readonly byTarget = new Map<string, Map<string, PolicyAnnotations>>();

  /** Remembers the annotations of a `tools/list` result's tools. */
  learn(target: PolicyTarget, tools: readonly PolicyTool[]): void {
    const known = new Map<string, PolicyAnnotations>();
    for (const t of tools) {
      if (known.size >= MAX_TOOLS_PER_TARGET) break;
      if (t.annotations) known.set(t.name, t.annotations);
    }
    this.byTarget.set(keyOf(target), known);
  }

  /** The annotations of `tool`, when a list of `target` named them. */
  get(target: PolicyTarget, tool: string): PolicyAnnotations | undefined {
    return this.byTarget.get(keyOf(target))?.get(tool);
  }
}

const keyOf = (target: PolicyTarget) => (typeof target === 'string' ? target : `endpoint:${target.endpoint}`);

/** A JSON-RPC message as the route parsed it. */
export interface PolicyMessage {
  method?: unknown;
  params?: unknown;
}

/**
 * The refusal of one request: a {@link PolicyDeniedError} for a `tools/call`
 * the policy refuses (answer it with `toResponse(id)` or its `jsonRpcError`
 * instead of forwarding), `undefined` for anything else. Refusals reach the
 * policy's `onDecision`.
 */
export function refusal(
  policy: ToolPolicy,
  identity: PolicyIdentity,
  target: PolicyTarget,
  message: PolicyMessage,
  annotations?: ToolAnnotations,
  /** The tool's annotations when the caller knows them (else those `annotations` learnt). */
  known?: PolicyAnnotations,
): PolicyDeniedError | undefined {
  if (message.method !== 'tools/call' || !policy.has(target)) return undefined;
  const params = (typeof message.params === 'object' && message.params !== null ? message.params : {}) as {
    name?: unknown;
    arguments?: unknown;
  };
  const name = typeof params.name === 'string' ? params.name : '';
  const args =
    typeof params.arguments === 'object' && params.arguments !== null && !Array.isArray(params.arguments)
      ? (params.arguments as Record<string, unknown>)
      : undefined;
  const decision = policy.checkCall(identity, target, name, args, known ?? annotations?.get(target, name));
  return decision.allow ? undefined : new PolicyDeniedError(name, decision.reason);
}

/**
 * A `tools/list` result with the tools the caller may not see left out
 * (`result` itself when the target has no policy or the result has no
 * `tools` list). A 2026-07-28 result (one with `resultType` or caching hints)
 * becomes `cacheScope: "private"` (its `ttlMs` kept): under a policy the list
 * depends on who asks, even when nothing was hidden from this caller, and a
 * `"public"` one may be served to any user (server/utilities/caching).
 * Teaches `annotations` the tools' annotations, for the `readOnly` rules of
 * later calls.
 */
export function filterToolsResult<R>(
  policy: ToolPolicy,
  identity: PolicyIdentity,
  target: PolicyTarget,
  result: R,
  annotations?: ToolAnnotations,
): R {
  if (!policy.has(target)) return result;
  const tools = (result as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return result;
  // Entries without a name are no tools a caller could call: they are left out too.
  const listed = tools.filter(
    (t): t is PolicyTool => typeof t === 'object' && t !== null && typeof (t as PolicyTool).name === 'string',
  );
  annotations?.learn(target, listed);
  const shown = policy.filterTools(identity, target, listed);
  return isModernResult(result as object)
    ? { ...result, tools: shown, cacheScope: 'private' }
    : { ...result, tools: shown };
}

/** True for a 2026-07-28 result: it says its `resultType` or carries caching hints (2025 results do neither). */
const isModernResult = (r: object): boolean => 'resultType' in r || 'cacheScope' in r || 'ttlMs' in r;
