import {
  enabledGrantTypes,
  normalizeClientMetadata,
  OAuthError,
  OptionsError,
  parseOptions,
  type ResolvedOptions,
} from '@mcp-gateway/oauth-dynamicclient';
import {
  ACCOUNT_CLIENT_ID,
  authorizationServerOptions,
  CLI_CLIENT_ID,
  CONFIG_FIELD_OF_OPTION,
  machineStaticClient,
  remoteIdentityProviderConfig,
} from '../gateway/as-options.js';
import { accountResource, adminResource } from '../gateway/resources.js';
import { issuePath, type ConfigIssue } from './errors.js';
import { serviceRoutes } from './routes.js';
import type { GatewayConfig } from './schema.js';

/**
 * Validates what the gateway hands its authorization server with the server's
 * own option schema (one set of rules, not a copy), naming the gateway field.
 */
export function authorizationConfigIssues(config: GatewayConfig): ConfigIssue[] {
  // The same resources the running gateway gives its authorization server.
  const resources = [
    ...serviceRoutes(config).map((r) => ({
      resource: r.resource,
      scopes: r.scopes,
      name: r.title,
    })),
    adminResource(config.issuer),
    accountResource(config.issuer),
  ];
  const identityProvider = config.idp.type === 'local' ? undefined : remoteIdentityProviderConfig(config.idp);
  try {
    const options = parseOptions(authorizationServerOptions(config, resources, { identityProvider }));
    return machineClientIssues(config, options);
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

/**
 * The machine clients of `authorization.clients`, checked with the server's
 * own registration rules (grant enabled, keys present, scopes known), plus
 * ids that are taken.
 */
function machineClientIssues(config: GatewayConfig, options: ResolvedOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set([ACCOUNT_CLIENT_ID, CLI_CLIENT_ID]);
  config.authorization.clients.forEach((client, i) => {
    const path = `authorization.clients[${i}]`;
    if (seen.has(client.id))
      issues.push({ path: `${path}.id`, message: `client id "${client.id}" is taken` });
    seen.add(client.id);
    for (const scope of client.scopes ?? []) {
      if (!options.scopes.includes(scope))
        issues.push({ path: `${path}.scopes`, message: `"${scope}" is not a scope of any service` });
    }
    const { client_id: _id, client_secret_hash: _h, ...metadata } = machineStaticClient(client);
    try {
      normalizeClientMetadata(metadata, {
        scopesSupported: options.scopes,
        grantTypes: enabledGrantTypes(options.grants),
      });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const grantOff = /unsupported grant type/.test(err.description ?? '');
      issues.push({
        path: grantOff ? 'authorization.grants' : path,
        message: grantOff
          ? `${path} (${client.id}) uses a grant that is off: ${err.description}; enable it in authorization.grants`
          : (err.description ?? err.error),
      });
    }
  });
  return issues;
}
