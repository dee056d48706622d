/**
 * The `federated` config section: endpoints that put several services behind
 * one MCP URL (issue 20). The zod schema checks each entry's shape; the checks
 * that need the whole config (members exist, the path is free) are in
 * `config-check.ts`, run at load beside the other cross-field checks.
 */
import { z } from 'zod';

/**
 * How member names are shown: `always` prefixes every name with its service,
 * `conditional` only names two members share, `never` none (on a collision
 * the first service in `services` wins and the others' item is left out, with
 * a warning in the log).
 */
export const PREFIX_MODES = ['always', 'conditional', 'never'] as const;
export type PrefixMode = (typeof PREFIX_MODES)[number];

/**
 * Separators between the service and the name. Both keep prefixed names within
 * SEP-986 (`[A-Za-z0-9_.-]`, 1-128 characters); `__` (the default) also within
 * the stricter `^[a-zA-Z0-9_-]{1,128}$` some model APIs impose. Service names
 * never contain either, so the first separator splits a prefixed name.
 */
export const SEPARATORS = ['__', '.'] as const;

export const federatedEndpointSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes')
    .optional()
    .describe(
      'Its key in `policies.endpoints` (default: the path without its first `/`, e.g. `mcp` for `/mcp`).',
    ),
  path: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a path such as /mcp (no trailing slash)')
    .describe('The MCP endpoint, below the issuer (e.g. `/mcp` serves `<issuer>/mcp`).'),
  services: z
    .array(z.string().min(1))
    .min(1)
    .describe('Member services, in order: the first wins a collision under `prefix: never`.'),
  prefix: z
    .enum(PREFIX_MODES)
    .default('conditional')
    .describe('`always`, `conditional` (only colliding names) or `never` (first member wins).'),
  separator: z.enum(SEPARATORS).default('__').describe('Between the service name and the item name.'),
  title: z.string().min(1).optional().describe('`resource_name` of its RFC 9728 document.'),
  timeout: z
    .number()
    .int()
    .positive()
    .default(30)
    .describe('Seconds each member request may take (lists, calls).'),
  maxSessions: z.number().int().positive().default(200).describe('Open 2025 sessions at most, overall.'),
  maxSessionsPerUser: z.number().int().positive().default(10).describe('Open 2025 sessions per user.'),
  sessionTimeout: z.number().int().positive().default(900).describe('Idle seconds before a session ends.'),
  maxListeners: z
    .number()
    .int()
    .positive()
    .default(200)
    .describe('Open list-change streams (2025 `GET`, 2026 `subscriptions/listen`) at most, overall.'),
  maxListenersPerUser: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe('Open list-change streams per user (429 beyond).'),
  maxSubscriptions: z
    .number()
    .int()
    .positive()
    .default(500)
    .describe(
      'Resource subscriptions at most, overall (each holds a 2025 session with the owning member per subscriber and member).',
    ),
  maxSubscriptionsPerSession: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe('Resource subscriptions per 2025 session or `subscriptions/listen` stream.'),
  maxPages: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe("Pages of one member's list followed before the rest is left out."),
});

export type FederatedEndpointConfig = z.output<typeof federatedEndpointSchema>;

/** A federated endpoint's key in `policies.endpoints`: its `name`, else its path without the first `/`. */
export function endpointPolicyName(e: { path: string; name?: string | undefined }): string {
  return e.name ?? e.path.slice(1);
}
