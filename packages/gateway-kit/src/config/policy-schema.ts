import { z } from 'zod';
import { endpointPolicyName } from '../federation/config.js';
import { compileCondition, ConditionError, MAX_CONDITION_LENGTH } from '../policy/expression.js';
import { TOOL_PATTERN } from '../policy/tool-pattern.js';

/**
 * `policies` of the config file: per service (and, once they exist, per
 * federated endpoint) which tools a user, a group or a machine client may see
 * and call. The engine is `policy/`; the language of `when` is documented in
 * `policy/expression.ts` and the README ("Per-tool policy").
 */

const ids = (description: string) =>
  z.array(z.string().min(1).max(512)).min(1).optional().describe(description);

/** One rule: who, which tools, and (for calls) an argument condition. */
export const policyRuleSchema = z
  .strictObject({
    effect: z
      .enum(['allow', 'deny', 'hide'])
      .describe(
        '`hide`: not in `tools/list` and not callable; `deny`: refused when called (listed unless hidden); `allow`: callable. hide beats deny beats allow.',
      ),
    tools: z
      .array(
        z
          .string()
          .regex(
            TOOL_PATTERN,
            'a tool name or a glob with `*` (letters, digits, _ - . / and *; at most 128)',
          ),
      )
      .min(1)
      .default(['*'])
      .describe('Tool names or globs (`*` = any run of characters). Default: every tool.'),
    users: ids('User ids the rule applies to (`local:alice`, `github:583231`, `oidc:<issuer>#<sub>`).'),
    groups: ids(
      "Groups from the identity provider (`github-org:<id>`, `github-team:<id>`, OIDC `groups` values, local users' `groups`).",
    ),
    clients: ids('OAuth client ids (`client_id` of the token) the rule applies to.'),
    readOnly: z
      .boolean()
      .optional()
      .describe(
        'Only tools whose `annotations.readOnlyHint` is this (true: read-only tools; false: all others). A hint from the server: trust it as far as the server.',
      ),
    when: z
      .string()
      .min(1)
      .max(MAX_CONDITION_LENGTH)
      .superRefine((source, ctx) => {
        try {
          compileCondition(source);
        } catch (err) {
          if (!(err instanceof ConditionError)) throw err;
          ctx.addIssue({ code: 'custom', message: `condition does not compile: ${err.message}` });
        }
      })
      .optional()
      .describe(
        'CEL condition over `args`, `tool`, `sub`, `clientId`, `groups` (plus `urlHost()`, `pathWithin()`); the rule applies to a call only when it is true. An evaluation error counts as "applies" for deny and "does not apply" for allow.',
      ),
    reason: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Told to the caller when the rule refuses a call.'),
  })
  .refine((r) => !(r.effect === 'hide' && r.when !== undefined), {
    path: ['when'],
    message: 'a hide rule decides tools/list, which has no arguments: it takes no `when`',
  });

/** The policy of one service or endpoint. */
export const toolPolicySchema = z.strictObject({
  default: z
    .enum(['allow', 'deny', 'hide'])
    .describe("What applies to a tool no rule allows: `allow` (today's behaviour), `deny` or `hide`."),
  rules: z.array(policyRuleSchema).max(500).default([]),
});

const targetName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a service or endpoint name');

/** `policies` of the config file. */
export const policiesSchema = z
  .strictObject({
    services: z
      .record(targetName, toolPolicySchema)
      .default({})
      .describe('Policies by service name; a service without one allows every tool to everyone it admits.'),
    endpoints: z
      .record(targetName, toolPolicySchema)
      .default({})
      .describe('Policies by federated endpoint name (applied by federated endpoints).'),
  })
  .default({ services: {}, endpoints: {} })
  .describe('Per-tool policy: which tools users, groups and machine clients may list and call.');

export type PolicyRuleConfig = z.output<typeof policyRuleSchema>;
export type ToolPolicyConfig = z.output<typeof toolPolicySchema>;
export type PoliciesConfig = z.output<typeof policiesSchema>;

/** Zod check of the whole config: a policy names a configured service or federated endpoint. */
export function checkPolicyTargets(
  config: {
    policies: PoliciesConfig;
    services: Record<string, unknown>;
    federated?: readonly { path: string; name?: string | undefined }[];
  },
  ctx: z.RefinementCtx,
): void {
  const endpoints = new Set((config.federated ?? []).map(endpointPolicyName));
  for (const name of Object.keys(config.policies.endpoints)) {
    if (!endpoints.has(name))
      ctx.addIssue({
        code: 'custom',
        path: ['policies', 'endpoints', name],
        message: `no federated endpoint is named "${name}" (its \`name\`, or its path without the first /)`,
      });
  }
  for (const name of Object.keys(config.policies.services)) {
    if (!(name in config.services))
      ctx.addIssue({
        code: 'custom',
        path: ['policies', 'services', name],
        message: `no service "${name}" is configured`,
      });
  }
}
