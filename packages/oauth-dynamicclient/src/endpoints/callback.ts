import type { Route, ServerContext } from '../context.js';
import { LoginError, type UpstreamIdentity } from '../idp/types.js';
import { skipsConsent } from '../clients/records.js';
import { hashSecret } from '../secrets.js';
import { isStoreUnavailable } from '../store/errors.js';
import { Grants } from '../tokens/grants.js';
import { issueCodeAndRedirect } from './authorization-response.js';
import { requestError, type PendingAuthorization } from './authorization-request.js';
import { parkConsent, recordConsent, type PendingConsent } from './consent.js';
import { flowServices } from './flow-services.js';

const loginErrors = {
  denied: ['access_denied', 'the user denied the request'],
  not_allowed: ['access_denied', 'the user is not allowed to use this server'],
  upstream_error: ['server_error', 'the identity provider refused the login'],
  unavailable: ['temporarily_unavailable', 'the identity provider is unavailable'],
} as const;

/**
 * `GET /callback`: where every identity provider returns the browser. Takes
 * the parked request by the upstream `state` (single use), checks that the
 * same browser started it, asks the provider for the identity, and then
 * either issues the code (consent remembered, given before the sign-in, or a
 * first-party static client with `skipConsent`) or parks the consent in the
 * flow state and redirects (303) to the reloadable `GET /consent?flow=…`.
 * A failed sign-in goes back at once to a static client and to a loopback IP
 * redirect URI (a native app on the user's machine), to any other client
 * through the error page's link ({@link requestError}: no open redirect).
 */
export function callbackRoutes(ctx: ServerContext): Route[] {
  const handler = async (request: Request, _c: ServerContext, { url }: { url: URL }): Promise<Response> => {
    const flows = flowServices(ctx);
    const state = url.searchParams.get('state');
    if (!state || state.length > 200)
      return flows.pages.error('invalid_request', 'The sign-in response has no state.');
    const pending = await ctx.store.take<PendingAuthorization>(`flow:${await hashSecret(state)}`);
    if (!pending) {
      return flows.pages.error(
        'invalid_request',
        'This sign-in has expired or was already used. Start again from the application.',
      );
    }
    if (!(await flows.binding.matches(request, pending.binding))) {
      return flows.pages.error(
        'invalid_request',
        'This sign-in was started in another browser. Start again from the application.',
      );
    }
    let identity: UpstreamIdentity | undefined;
    let failure: readonly [error: string, description: string] | undefined;
    try {
      identity = await flows.idp.complete({
        params: url.searchParams,
        state,
        data: pending.idpData,
        binding: pending.binding,
      });
    } catch (err) {
      if (isStoreUnavailable(err)) throw err;
      const reason = err instanceof LoginError ? err.reason : 'upstream_error';
      ctx.audit.emit('login.failed', {
        provider: flows.idp.id,
        reason,
        ...(err instanceof LoginError && err.who ? { who: err.who } : {}),
      });
      if (!(err instanceof LoginError)) {
        ctx.log.error('identity provider failed', {
          provider: flows.idp.id,
          errorMessage: err instanceof Error ? err.message : String(err),
        });
      }
      failure = loginErrors[reason];
    }
    const client = await ctx.clients.get(pending.clientId).catch((err: unknown) => {
      if (isStoreUnavailable(err)) throw err;
      return undefined;
    });
    if (!client) return flows.pages.error('invalid_client', 'This application is no longer registered.');
    if (!identity) {
      // No automatic redirect to a self-registered client's web redirect URI: the upstream may
      // have answered without the user doing anything (an existing session), see `requestError`.
      // A loopback IP redirect URI stays on the user's machine and is redirected (RFC 8252 §7.3).
      const [error, description] = failure ?? loginErrors.upstream_error;
      return requestError(ctx, client, pending.redirectUri, pending.state, error, description);
    }

    const grant = await flows.grants.find(identity.sub, client.client_id);
    if (grant && Grants.covers(grant, pending.scopes, pending.resource)) {
      return issueCodeAndRedirect(ctx, pending, identity, grant.id);
    }
    if (pending.consented || skipsConsent(client)) {
      // Approved on the consent page before the sign-in (a self-registered client and a
      // third-party provider), or a first-party static client whose consent is implied:
      // recorded and audited like any other.
      const implied = await recordConsent(ctx, pending, identity);
      return issueCodeAndRedirect(ctx, pending, identity, implied.id);
    }
    const consent: PendingConsent = {
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      redirectUriExplicit: pending.redirectUriExplicit,
      ...(pending.state !== undefined ? { state: pending.state } : {}),
      codeChallenge: pending.codeChallenge,
      ...(pending.dpopJkt !== undefined ? { dpopJkt: pending.dpopJkt } : {}),
      resource: pending.resource,
      scopes: pending.scopes,
      binding: pending.binding,
      identity,
    };
    // The consent lives `loginTtlSeconds` from now: so must the cookie that proves the browser.
    return parkConsent(ctx, consent, await flows.binding.renew(request));
  };
  return [{ method: 'GET', path: `${ctx.issuerPath}/callback`, handler, page: true }];
}
