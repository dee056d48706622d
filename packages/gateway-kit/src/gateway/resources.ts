import type { ResourceDescriptor } from '../auth.js';

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
