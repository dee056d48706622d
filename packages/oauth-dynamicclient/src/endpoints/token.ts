import { authenticateClient } from '../clients/authentication.js';
import { JWT_BEARER_GRANT, type GrantType } from '../clients/metadata.js';
import type { Client } from '../clients/records.js';
import type { Route, ServerContext } from '../context.js';
import { authorizationCodeGrant } from '../grants/authorization-code.js';
import { clientCredentialsGrant } from '../grants/client-credentials.js';
import { enabledGrantTypes } from '../grants/options.js';
import { jwtBearerGrant } from '../grants/jwt-bearer.js';
import { refreshTokenGrant } from '../grants/refresh-token.js';
import { isWorkloadRequest, workloadGrant } from '../grants/workload.js';
import { readForm } from '../http/body.js';
import { invalidRequest, unsupportedGrantType } from '../http/errors.js';
import { tokenRequestBinding, withDpopNonce, type TokenBinding } from '../dpop/token-binding.js';

type GrantHandler = (
  ctx: ServerContext,
  client: Client,
  form: Record<string, string>,
  binding: TokenBinding,
) => Promise<Response>;

/** The grants this server serves, by `grant_type`: the code flow always, the others when enabled. */
export function enabledGrants(ctx: ServerContext): Map<GrantType, GrantHandler> {
  const handlers: Record<GrantType, GrantHandler> = {
    authorization_code: authorizationCodeGrant,
    refresh_token: refreshTokenGrant,
    client_credentials: clientCredentialsGrant,
    [JWT_BEARER_GRANT]: jwtBearerGrant,
  };
  return new Map(enabledGrantTypes(ctx.options.grants).map((g) => [g, handlers[g]]));
}

/**
 * `POST /token` (OAuth 2.1 §3.2): authenticates the client
 * (`clients/authentication.ts`), then hands the request to the module of its
 * `grant_type` in `grants/`. A grant the server does not serve is
 * `unsupported_grant_type`; one the client did not register is
 * `unauthorized_client`. The `DPoP` header is checked here, once for every
 * grant (`dpop/token-binding.ts`), and the proven key handed to the grant,
 * which records the proof's `jti` (`binding.recordProof`) only after its
 * own read-only checks and before it consumes or issues anything: an
 * invalid code, refresh token or assertion writes no replay entry, and a
 * replayed proof consumes nothing.
 * A jwt-bearer request with a workload JWT (`workloadIssuers`) is the one
 * exception: its client is found from the assertion, so it goes to
 * `grants/workload.ts`, which authenticates and binds in the same order.
 */
export function tokenRoutes(ctx: ServerContext): Route[] {
  const grants = enabledGrants(ctx);
  const handler = async (request: Request): Promise<Response> => {
    const form = await readForm(request, ctx.options.maxBodyBytes);
    // A workload's JWT is its credential: the client comes from the assertion (grants/workload.ts).
    if (
      form.grant_type === JWT_BEARER_GRANT &&
      grants.has(JWT_BEARER_GRANT) &&
      isWorkloadRequest(ctx, request, form)
    )
      return withDpopNonce(ctx, await workloadGrant(ctx, request, form));
    const client = await authenticateClient(ctx, request, form);
    const grantType = form.grant_type;
    if (!grantType) throw invalidRequest('grant_type is required');
    const grant = grants.get(grantType as GrantType);
    if (!grant) throw unsupportedGrantType('unsupported grant_type');
    ctx.clients.assertGrantAllowed(client, grantType as GrantType);
    const binding = await tokenRequestBinding(ctx, request, client);
    const response = await grant(ctx, client, form, binding);
    // Every grant records the proof before it issues; this only makes sure no grant answers without it.
    await binding.recordProof?.();
    return withDpopNonce(ctx, response);
  };
  return [{ method: 'POST', path: `${ctx.issuerPath}/token`, handler, cors: true, rateLimit: 'token' }];
}
