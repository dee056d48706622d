import type { ResourceDescriptor } from '../auth.js';
import type { FederatedEndpointConfig } from '../federation/config.js';
import { federatedResources } from '../federation/resource.js';
import type { ServiceRegistry } from '../services/registry.js';

/** Scope that opens the admin API. */
export const ADMIN_SCOPE = 'mcp:admin';

/** The admin resource: tokens for the admin API carry it as audience. */
export function adminResource(issuer: string): ResourceDescriptor {
  return {
    resource: `${issuer.replace(/\/+$/, '')}/admin`,
    scopes: [ADMIN_SCOPE],
    name: 'mcp-gateway admin API',
  };
}

/** The account resource: tokens for the connected-apps page carry it as audience. */
export function accountResource(issuer: string): ResourceDescriptor {
  return { resource: `${issuer.replace(/\/+$/, '')}/account`, scopes: ['account'], name: 'Connected apps' };
}

/**
 * Every resource the authorization server must know: each service, each
 * federated endpoint, the admin API and the account page. A service with a
 * `users` list is not advertised (its scopes stay out of the authorization
 * server's `scopes_supported`).
 */
export function resourcesOf(
  registry: ServiceRegistry,
  issuer: string,
  federated: readonly FederatedEndpointConfig[] = [],
): ResourceDescriptor[] {
  return [
    ...registry.list().map((e) => ({
      resource: e.route.resource,
      scopes: e.route.scopes,
      name: e.route.title,
      ...(e.config.users ? { advertise: false } : {}),
    })),
    ...federatedResources(registry, issuer, federated),
    adminResource(issuer),
    accountResource(issuer),
  ];
}
