import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { allowedScopes, resolveResource } from '../endpoints/authorize.js';
import { invalidRequest, invalidScope, invalidTarget } from '../http/errors.js';
import { grantedScopes, issueWithoutRefresh } from './issue-without-refresh.js';
import type { TokenBinding } from '../dpop/token-binding.js';

/** The subject of tokens a client gets for itself: `client:<client_id>` (what `users` lists name). */
export const machineSubject = (clientId: string): string => `client:${clientId}`;

/**
 * The `client_credentials` grant (RFC 6749 §4.4) for an authenticated
 * confidential client. The token's subject is the client itself
 * (`client:<client_id>`), its audience the requested RFC 8707 `resource`
 * (a configured one, or the default), its scopes at most the client's
 * registered `scope` on that resource. No refresh token (§4.4.3).
 */
export async function clientCredentialsGrant(
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
): Promise<Response> {
  if (client.metadata.token_endpoint_auth_method === 'none')
    throw invalidRequest('client_credentials needs client authentication');
  const target = resolveResource(ctx, form.resource);
  if (!target) throw invalidTarget(form.resource === undefined ? 'resource is required' : 'unknown resource');
  // Only what the client registered: a client with no registered scope gets none.
  const registered = client.metadata.scope ? allowedScopes(client, target.scopes) : [];
  const scopes = grantedScopes(form.scope, registered);
  if (!scopes) throw invalidScope('scope exceeds what this client registered for the resource');
  await binding.recordProof?.();
  return issueWithoutRefresh(ctx, client, {
    sub: machineSubject(client.client_id),
    resource: target.resource,
    scopes,
    binding,
  });
}
