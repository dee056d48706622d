import { OptionsError, parseOptions } from '@mcp-gateway/oauth-dynamicclient';
import {
  authorizationServerOptions,
  CONFIG_FIELD_OF_OPTION,
  remoteIdentityProviderConfig,
} from '../gateway/as-options.js';
import { issuePath, type ConfigIssue } from './errors.js';
import { serviceRoutes } from './routes.js';
import type { GatewayConfig } from './schema.js';

/**
 * Validates what the gateway hands its authorization server with the server's
 * own option schema (one set of rules, not a copy), naming the gateway field.
 */
export function authorizationConfigIssues(config: GatewayConfig): ConfigIssue[] {
  const resources = serviceRoutes(config).map((r) => ({
    resource: r.resource,
    scopes: r.scopes,
    name: r.title,
  }));
  const identityProvider = config.idp.type === 'local' ? undefined : remoteIdentityProviderConfig(config.idp);
  try {
    parseOptions(authorizationServerOptions(config, resources, { identityProvider }));
    return [];
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    return err.issues.map((issue) => ({
      path: configFieldOf(issuePath(issue.path)),
      message: issue.message,
    }));
  }
}

/** The gateway field behind an option path (`tokens.accessTokenTtlSeconds` → `tokens.accessTokenTtl`). */
export function configFieldOf(optionPath: string): string {
  let best = '';
  for (const key of Object.keys(CONFIG_FIELD_OF_OPTION)) {
    const hit = optionPath === key || optionPath.startsWith(`${key}.`) || optionPath.startsWith(`${key}[`);
    if (hit && key.length > best.length) best = key;
  }
  if (!best) return optionPath;
  const field = CONFIG_FIELD_OF_OPTION[best]!;
  // Below the IdP the option names are the config's own (clientId, allowedOrgs, …).
  return best === 'identityProvider' ? field + optionPath.slice(best.length) : field;
}
