/**
 * The `federated` config section: endpoints that put several services behind
 * one MCP URL (issue 20). The zod schema checks each entry's shape; the checks
 * that need the whole config (members exist, the path is free) are
 * {@link federationConfigIssues}, run at load beside the other cross-field checks.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../config/errors.js';
import { serviceRoute } from '../config/routes.js';
import type { ServiceConfig } from '../config/schema.js';

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

/** Path segments the gateway or its authorization server answers itself. */
const RESERVED_SEGMENTS = new Set([
  '.well-known',
  'account',
  'admin',
  'authorize',
  'callback',
  'consent',
  'healthz',
  'introspect',
  'jwks',
  'login',
  'logout',
  'metrics',
  'openapi.json',
  'readyz',
  'register',
  'revoke',
  'servers',
  'token',
  'upstream',
  'verify',
]);

export const federatedEndpointSchema = z.strictObject({
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
  maxPages: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe("Pages of one member's list followed before the rest is left out."),
});

export type FederatedEndpointConfig = z.output<typeof federatedEndpointSchema>;

/**
 * Whole-config checks of `federated`: every member is an enabled service of
 * the file, no member twice, and each path is its own (not a service's MCP
 * path, not another endpoint's, not one the gateway answers itself).
 */
export function federationConfigIssues(config: {
  issuer: string;
  services: Record<string, ServiceConfig>;
  federated: FederatedEndpointConfig[];
}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const taken = new Map<string, string>();
  for (const [name, s] of Object.entries(config.services)) {
    if (!s.enabled || s.host) continue;
    const path = new URL(serviceRoute(config.issuer, name, s).resource).pathname;
    taken.set(path, `service "${name}"`);
  }
  const issuerPath = new URL(config.issuer).pathname.replace(/\/+$/, '');
  config.federated.forEach((f, i) => {
    const at = `federated[${i}]`;
    f.services.forEach((name, j) => {
      const s = config.services[name];
      if (!s || !s.enabled)
        issues.push({ path: `${at}.services[${j}]`, message: `no enabled service "${name}"` });
      if (f.services.indexOf(name) !== j) {
        issues.push({ path: `${at}.services[${j}]`, message: `service "${name}" is listed twice` });
      }
    });
    const first = f.path.split('/')[1]!;
    const full = issuerPath + f.path;
    const owner = taken.get(full);
    if (RESERVED_SEGMENTS.has(first)) {
      issues.push({ path: `${at}.path`, message: `${f.path} is under /${first}, which the gateway serves` });
    } else if (owner) {
      issues.push({ path: `${at}.path`, message: `${f.path} is already the MCP endpoint of ${owner}` });
    }
    taken.set(full, `federated endpoint ${f.path}`);
  });
  return issues;
}
