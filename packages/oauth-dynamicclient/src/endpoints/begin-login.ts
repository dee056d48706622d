import type { Client } from '../clients/records.js';
import type { ServerContext } from '../context.js';
import type { Approval } from '../idp/consent-memory.js';
import { hashSecret } from '../secrets.js';
import { isStoreUnavailable } from '../store/errors.js';
import {
  requestError,
  type AuthorizationBeforeLogin,
  type PendingAuthorization,
} from './authorization-request.js';
import { flowServices } from './flow-services.js';

/** The approval a consent page before the sign-in stands for: this client's exact request. */
export const approvalOf = (r: AuthorizationBeforeLogin): Approval => ({
  clientId: r.clientId,
  redirectUri: r.redirectUri,
  resource: r.resource,
  scopes: r.scopes,
});

/**
 * Whether `client` must be approved on this server's consent page before the
 * browser is sent to the identity provider: a self-registered (dynamic or
 * CIMD) client, a third-party provider (one static client id there for every
 * MCP client), and a browser that has not approved this exact request before
 * (MCP security best practices, "Confused Deputy Problem": the upstream may
 * skip its own consent for a returning user, and the code would go to
 * whatever redirect URI the new client registered). Pre-registered clients
 * are the administrator's, and the local provider's form is this server's own:
 * those get the consent page after the sign-in, as before.
 */
export async function needsConsentBeforeLogin(
  ctx: ServerContext,
  client: Client,
  request: Request,
  authorization: AuthorizationBeforeLogin,
): Promise<boolean> {
  const flows = flowServices(ctx);
  if (client.kind === 'static' || flows.idp.thirdParty === false) return false;
  return !(await flows.consentMemory.has(request, approvalOf(authorization)));
}

/**
 * Sends the browser to the identity provider: parks the request in the store
 * under a new random single-use upstream `state` (bound to this browser
 * through `authorization.binding`) and redirects there with `cookies` set.
 * An unreachable provider is the client's `temporarily_unavailable`
 * ({@link requestError}).
 */
export async function beginLogin(
  ctx: ServerContext,
  client: Client,
  authorization: AuthorizationBeforeLogin,
  cookies: (string | undefined)[],
): Promise<Response> {
  const flows = flowServices(ctx);
  const upstreamState = ctx.ids.token(32);
  let begun: { url: string; data: Record<string, string> };
  try {
    begun = await flows.idp.begin({ state: upstreamState });
  } catch (err) {
    if (isStoreUnavailable(err)) throw err;
    ctx.log.warn('identity provider unavailable', {
      provider: flows.idp.id,
      errorMessage: err instanceof Error ? err.message : String(err),
    });
    return requestError(
      ctx,
      client,
      authorization.redirectUri,
      authorization.state,
      'temporarily_unavailable',
      'the identity provider is unavailable',
    );
  }
  const pending: PendingAuthorization = { ...authorization, idpData: begun.data };
  await ctx.store.set(`flow:${await hashSecret(upstreamState)}`, pending, ctx.options.loginTtlSeconds * 1000);
  const headers = new Headers({ location: begun.url, 'cache-control': 'no-store' });
  for (const cookie of cookies) if (cookie) headers.append('set-cookie', cookie);
  return new Response(null, { status: 302, headers });
}
