/**
 * Whole-config checks of the `federated` section, run by `resolveConfig`
 * after the schema (they need the services and the issuer).
 */
import type { ConfigIssue } from '../config/errors.js';
import { serviceRoute } from '../config/routes.js';
import type { ServiceConfig } from '../config/schema.js';
import type { FederatedEndpointConfig } from './config.js';

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
