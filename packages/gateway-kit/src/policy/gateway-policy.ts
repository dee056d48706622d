import { fromZodIssues, type ConfigIssue } from '../config/errors.js';
import { policiesSchema, type PoliciesConfig } from '../config/policy-schema.js';
import type { KeyValue } from '../services/registry.js';
import type { PolicyDeniedError } from './denied.js';
import {
  ToolPolicy,
  type PolicyAnnotations,
  type PolicyDecisionEvent,
  type PolicyIdentity,
  type PolicyTarget,
} from './engine.js';
import { filterToolsResult, refusal, ToolAnnotations, type PolicyMessage } from './mcp-messages.js';

/** Store key of the policies replaced through the admin API (absent: the config file's apply). */
export const RUNTIME_POLICIES_KEY = 'gateway:policies';

/** A policies document the admin API refused, with zod's issues (dotted paths). */
export class PolicyInputError extends Error {
  override readonly name = 'PolicyInputError';
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid policies: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** Options of {@link GatewayPolicy}. */
export interface GatewayPolicyOptions {
  /** Where runtime replacements are kept, so every instance and restart sees them. */
  store?: KeyValue | undefined;
  /** Told of every refused call (auditing: log line and metric). */
  onDecision?: (event: PolicyDecisionEvent) => void;
  /** The names a service policy may name when replaced at runtime (the configured and runtime services). */
  services?: () => Iterable<string>;
  /** More checks of a replacement: problems as `policies.<path>: <message>` (e.g. user ids that never match). */
  check?: (policies: PoliciesConfig) => string[];
}

/**
 * The gateway's per-tool policy, compiled once: the config file's `policies`,
 * or the document last stored through the admin API (`PUT /admin/policies`),
 * which replaces them on every instance until `DELETE /admin/policies`.
 *
 * The two calls below are the whole interface a request path needs, and
 * they work per service and per federated endpoint alike: a federated
 * endpoint calls them with `{ endpoint }` for its own policy and with the
 * owning service's name for that service's, and applies both.
 *
 * @example
 * ```ts
 * const denied = policy.admitCall(identity, 'fetch', message);
 * if (denied) return denied.toResponse(message.id); // never forwarded
 * const visible = policy.filterTools(identity, { endpoint: 'mcp' }, result);
 * ```
 */
export class GatewayPolicy {
  private engine: ToolPolicy;
  private current: PoliciesConfig;
  private snapshot = '';
  /** Tool annotations learnt from `tools/list` results, for `readOnly` rules; kept across replacements. */
  private readonly annotations = new ToolAnnotations();

  constructor(
    private readonly fromFile: PoliciesConfig,
    private readonly options: GatewayPolicyOptions = {},
  ) {
    this.current = fromFile;
    this.engine = this.compile(fromFile);
  }

  /** `config`: the config file's policies apply; `runtime`: a document stored through the admin API. */
  get source(): 'config' | 'runtime' {
    return this.snapshot ? 'runtime' : 'config';
  }

  /** The policies in force, in the config file's shape. */
  get document(): PoliciesConfig {
    return this.current;
  }

  /** Whether `target` has a policy (without one every tool is listed and every call forwarded). */
  has(target: PolicyTarget): boolean {
    return this.engine.has(target);
  }

  /**
   * The refusal of one JSON-RPC request to `target` (a service name or
   * `{ endpoint }`): a `PolicyDeniedError` (JSON-RPC -32010, or -31010 for a 2026-07-28 caller; HTTP 200) for a
   * `tools/call` the policy refuses, to answer with `toResponse(id)` (or its
   * `jsonRpcError` in a batch or stream) instead of forwarding it; `undefined`
   * for any other request or an allowed call. Every refusal is audited.
   */
  admitCall(
    identity: PolicyIdentity,
    target: PolicyTarget,
    message: PolicyMessage,
    /** The tool's annotations when the caller has them (a federated endpoint's member lists); else those learnt. */
    annotations?: PolicyAnnotations,
  ): PolicyDeniedError | undefined {
    return refusal(this.engine, identity, target, message, this.annotations, annotations);
  }

  /** Whether `target`'s policy has `readOnly` rules (its call decisions need the tool's annotations). */
  usesReadOnly(target: PolicyTarget): boolean {
    return this.engine.usesReadOnly(target);
  }

  /**
   * A `tools/list` result of `target` without the tools `identity` may not
   * see (the result itself when `target` has no policy), `cacheScope:
   * "private"` when it is a 2026-07-28 result (it depends on who asks). Also
   * learns the tools' annotations, for `readOnly` rules of later calls.
   */
  filterTools<R>(identity: PolicyIdentity, target: PolicyTarget, result: R): R {
    return filterToolsResult(this.engine, identity, target, result, this.annotations);
  }

  /**
   * Validates `input` with the config file's schema (and, for services, that
   * each is configured), stores it and puts it in force.
   *
   * @throws PolicyInputError with zod's issues when it is invalid.
   */
  async replace(input: unknown): Promise<PoliciesConfig> {
    const parsed = policiesSchema.safeParse(input);
    if (!parsed.success) throw new PolicyInputError(fromZodIssues(parsed.error.issues));
    const known = new Set(this.options.services?.() ?? []);
    const unknown = this.options.services
      ? Object.keys(parsed.data.services).filter((name) => !known.has(name))
      : [];
    const issues = unknown.map((name) => ({
      path: `services.${name}`,
      message: `no service "${name}" is configured`,
    }));
    for (const problem of this.options.check?.(parsed.data) ?? []) {
      const at = problem.indexOf(': ');
      issues.push({ path: problem.slice(0, at).replace(/^policies\./, ''), message: problem.slice(at + 2) });
    }
    if (issues.length) throw new PolicyInputError(issues);
    await this.options.store?.set(RUNTIME_POLICIES_KEY, parsed.data);
    this.use(parsed.data, JSON.stringify(parsed.data));
    return parsed.data;
  }

  /** Drops the stored document: the config file's policies apply again. */
  async reset(): Promise<void> {
    await this.options.store?.delete(RUNTIME_POLICIES_KEY);
    this.use(this.fromFile, '');
  }

  /**
   * Reads the stored document (at start, and to pick up other instances'
   * replacements). A stored document that no longer validates is ignored:
   * the config file's policies apply. Returns true when the policies changed.
   */
  async refresh(): Promise<boolean> {
    if (!this.options.store) return false;
    const raw = await this.options.store.get<unknown>(RUNTIME_POLICIES_KEY);
    const parsed = raw === undefined ? undefined : policiesSchema.safeParse(raw);
    const next = parsed?.success ? parsed.data : undefined;
    const snapshot = next ? JSON.stringify(next) : '';
    if (snapshot === this.snapshot) return false;
    this.use(next ?? this.fromFile, snapshot);
    return true;
  }

  private use(config: PoliciesConfig, snapshot: string): void {
    this.engine = this.compile(config);
    this.current = config;
    this.snapshot = snapshot;
  }

  private compile(config: PoliciesConfig): ToolPolicy {
    return ToolPolicy.fromConfig(
      config,
      this.options.onDecision ? { onDecision: this.options.onDecision } : {},
    );
  }
}
