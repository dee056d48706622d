import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import { flowServices } from '../endpoints/flow-services.js';
import { noStoreJson } from '../http/responses.js';
import type { Grant } from '../tokens/grants.js';
import { tokenType, type TokenBinding } from '../dpop/token-binding.js';

/** What a grant without a refresh token issues an access token for. */
export interface DirectTokenInput {
  /** `client:<client_id>` for a machine client, `oidc:<issuer>#<sub>` for an IdP's user. */
  sub: string;
  /** Canonical configured resource (the token's `aud`). */
  resource: string;
  scopes: string[];
  /** The DPoP key the token request proved (`cnf.jkt`); `{}` for a Bearer token. */
  binding: TokenBinding;
  /** The user's login and name, when the subject is a user (display only). */
  login?: string;
  name?: string;
  /** The user's groups (an operator grant for a user who has some), for the token's `groups` claim. */
  groups?: string[];
  /** Marks the `token.issued` audit event of an operator grant. */
  source?: 'operator';
}

/** The RFC 6749 §5.1 body of a token without a refresh token. */
export interface DirectTokenBody {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
}

/**
 * Issues an access token and no refresh token. The token is recorded under
 * the (subject, client) grant (`grant`, or consented here when not given), so
 * withdrawing the grant or deleting the client revokes it, like tokens of
 * the code flow.
 */
export async function issueDirect(
  ctx: ServerContext,
  client: Client,
  input: DirectTokenInput,
  grant?: Grant,
): Promise<DirectTokenBody> {
  const flows = flowServices(ctx);
  const familyId = ctx.ids.uuid();
  const user = {
    ...(input.login !== undefined ? { login: input.login } : {}),
    ...(input.name !== undefined ? { name: input.name } : {}),
  };
  grant ??= await flows.grants.consent({
    sub: input.sub,
    clientId: client.client_id,
    scopes: input.scopes,
    resource: input.resource,
    ...user,
  });
  const access = await flows.accessTokens.issue({
    sub: input.sub,
    clientId: client.client_id,
    resource: input.resource,
    scopes: input.scopes,
    familyId,
    ...user,
    ...(input.groups?.length ? { groups: input.groups } : {}),
    ...(input.binding.jkt ? { jkt: input.binding.jkt } : {}),
  });
  await flows.refresh.recordFamily({
    familyId,
    grantId: grant.id,
    clientId: client.client_id,
    sub: input.sub,
  });
  await flows.addFamily({ id: grant.id, clientId: client.client_id }, familyId);
  await ctx.clients.touch(client.client_id);
  ctx.audit.emit('token.issued', {
    clientId: client.client_id,
    sub: input.sub,
    familyId,
    jti: access.jti,
    scopes: input.scopes,
    resource: input.resource,
    refresh: false,
    ...(input.source ? { source: input.source } : {}),
  });
  return {
    access_token: access.token,
    token_type: tokenType(input.binding),
    expires_in: access.expiresIn,
    scope: input.scopes.join(' '),
  };
}

/** {@link issueDirect} as the token endpoint's answer (client_credentials and jwt-bearer). */
export async function issueWithoutRefresh(
  ctx: ServerContext,
  client: Client,
  input: DirectTokenInput,
): Promise<Response> {
  return noStoreJson(await issueDirect(ctx, client, input));
}

/** The scopes a request may get: `requested` (space-separated) must be within `allowed`; absent = all of `allowed`. */
export function grantedScopes(requested: string | undefined, allowed: string[]): string[] | undefined {
  if (requested === undefined) return allowed;
  const wanted = [...new Set(requested.split(' ').filter(Boolean))];
  return wanted.every((s) => allowed.includes(s)) ? wanted : undefined;
}
