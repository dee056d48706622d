import type { Client } from '../clients/records.js';
import { onlyLocalRedirects, redirectHost } from '../clients/redirect-uri.js';
import type { Route, ServerContext } from '../context.js';
import { readForm } from '../http/body.js';
import { OAuthError } from '../http/errors.js';
import { isCrossSitePost, sameToken } from '@mcp-gateway/internal/same-origin';
import type { UpstreamIdentity } from '../idp/types.js';
import { hashSecret } from '../secrets.js';
import { isStoreUnavailable } from '../store/errors.js';
import type { Grant } from '../tokens/grants.js';
import { issueCodeAndRedirect } from './authorization-response.js';
import { redirectError, type PendingAuthorization } from './authorization-request.js';
import { approvalOf, beginLogin } from './begin-login.js';
import { flowServices } from './flow-services.js';

/** A user looking at the consent page: signed in, or about to sign in at a third party. */
export interface PendingConsent extends Omit<PendingAuthorization, 'idpData'> {
  /** The signed-in user; absent on the consent page before a third-party sign-in (`needsConsentBeforeLogin`). */
  identity?: UpstreamIdentity;
}

/** The CSRF token of a consent form: HMAC over the consent id and the browser binding. */
async function csrfToken(ctx: ServerContext, consentId: string, binding: string): Promise<string> {
  return flowServices(ctx).binding.sign(`consent\u0000${consentId}\u0000${binding}`);
}

/** What is left of a consent request once the user decided: enough to say so on a reload. */
interface AnsweredConsent {
  binding: string;
  decision: 'approve' | 'deny';
  /** Answered before the sign-in: an approval sent the browser on to the identity provider. */
  beforeLogin?: true;
}

const pendingKey = (hash: string) => `consent:${hash}`;
const answeredKey = (hash: string) => `consent-answered:${hash}`;

/**
 * Parks the consent decision in the flow state under a new opaque flow id and
 * sends the browser (303) to `GET /consent?flow=<id>`, a page it can reload
 * while the login is alive. The record keeps the browser binding, so the URL
 * is useless in another browser. `setCookie` renews the binding cookie, so
 * it lives as long as the parked consent (see `BrowserBinding.renew`).
 */
export async function parkConsent(
  ctx: ServerContext,
  consent: PendingConsent,
  setCookie?: string,
): Promise<Response> {
  const flowId = ctx.ids.token(32);
  await ctx.store.set(pendingKey(await hashSecret(flowId)), consent, ctx.options.loginTtlSeconds * 1000);
  const location = new URL(ctx.endpoint('/consent'));
  location.searchParams.set('flow', flowId);
  return new Response(null, {
    status: 303,
    headers: {
      location: location.href,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      ...(setCookie ? { 'set-cookie': setCookie } : {}),
    },
  });
}

/** Records (merges) the user's consent as a grant and audits it (`consent.given`). */
export async function recordConsent(
  ctx: ServerContext,
  request: Pick<PendingConsent, 'clientId' | 'scopes' | 'resource'>,
  identity: UpstreamIdentity,
): Promise<Grant> {
  const grant = await flowServices(ctx).grants.consent({
    sub: identity.sub,
    clientId: request.clientId,
    scopes: request.scopes,
    resource: request.resource,
    login: identity.login,
    ...(identity.name ? { name: identity.name } : {}),
  });
  ctx.audit.emit('consent.given', {
    clientId: request.clientId,
    sub: identity.sub,
    scopes: request.scopes,
    resource: request.resource,
    grantId: grant.id,
  });
  return grant;
}

/** Renders the consent page of a parked request (no framing, every client string escaped). */
async function renderConsent(
  ctx: ServerContext,
  client: Client,
  consentId: string,
  consent: PendingConsent,
): Promise<Response> {
  const flows = flowServices(ctx);
  const resourceName = ctx.resources.find(consent.resource)?.name;
  const common = {
    client: {
      id: client.client_id,
      name: client.metadata.client_name,
      kind: client.kind,
      ...(client.kind === 'cimd'
        ? { metadataUrl: client.client_id, verifiedDomain: new URL(client.client_id).host }
        : {}),
      ...(client.metadata.client_uri ? { uri: client.metadata.client_uri } : {}),
      ...(client.metadata.policy_uri ? { policyUri: client.metadata.policy_uri } : {}),
      ...(client.metadata.tos_uri ? { tosUri: client.metadata.tos_uri } : {}),
      // Pre-registered clients are the administrator's: only the others get the warning.
      ...(client.kind !== 'static' && onlyLocalRedirects(client.metadata.redirect_uris)
        ? { localRedirectsOnly: true }
        : {}),
    },
    redirectHost: redirectHost(consent.redirectUri),
    redirectUri: consent.redirectUri,
    scopes: consent.scopes,
    resource: consent.resource,
    ...(resourceName ? { resourceName } : {}),
    action: ctx.endpoint('/consent'),
    fields: { consent_id: consentId, csrf: await csrfToken(ctx, consentId, consent.binding) },
  };
  const identity = consent.identity;
  if (!identity)
    return flows.pages.consentBeforeSignIn({ ...common, signInWith: flows.idp.displayName ?? flows.idp.id });
  return flows.pages.consent({
    ...common,
    user: { login: identity.login, ...(identity.name ? { name: identity.name } : {}) },
  });
}

const EXPIRED = 'This consent request has expired. Start again from the application.';

/**
 * `GET /consent?flow=<id>`: the consent page of a signed-in user, or of one
 * about to sign in at a third-party provider. It can be reloaded while the login is alive, only in the browser that started it
 * (binding cookie). After the decision a reload shows "already answered".
 */
async function showConsent(ctx: ServerContext, request: Request, url: URL): Promise<Response> {
  const flows = flowServices(ctx);
  const flowId = url.searchParams.get('flow') ?? '';
  if (!flowId || flowId.length > 200)
    return flows.pages.error('invalid_request', 'This consent link is incomplete.');
  const hash = await hashSecret(flowId);
  const consent = await ctx.store.get<PendingConsent>(pendingKey(hash));
  if (!consent) {
    const answered = await ctx.store.get<AnsweredConsent>(answeredKey(hash));
    if (answered && (await flows.binding.matches(request, answered.binding))) {
      return flows.pages.notice({
        notice: 'already_answered',
        heading: 'Already answered',
        message:
          answered.decision === 'deny'
            ? 'You already denied this request; the application has been told.'
            : answered.beforeLogin
              ? 'You already allowed this request.'
              : 'You already allowed this request; the application has been sent its answer.',
      });
    }
    return flows.pages.error('invalid_request', EXPIRED);
  }
  if (!(await flows.binding.matches(request, consent.binding))) {
    return flows.pages.error(
      'access_denied',
      'This consent request was started in another browser. Start again from the application.',
      403,
    );
  }
  const client = await ctx.clients.get(consent.clientId).catch((err: unknown) => {
    if (isStoreUnavailable(err)) throw err;
    return undefined;
  });
  if (!client) return flows.pages.error('invalid_client', 'This application is no longer registered.');
  return renderConsent(ctx, client, flowId, consent);
}

/**
 * An approval on the consent page before a third-party sign-in: this browser
 * remembers it (`ConsentMemory`), and the browser goes on to the
 * identity provider with the request marked `consented`, so the callback
 * issues the code for whoever signs in without asking again.
 */
async function approvedBeforeLogin(
  ctx: ServerContext,
  request: Request,
  consent: PendingConsent,
): Promise<Response> {
  const flows = flowServices(ctx);
  const client = await ctx.clients.get(consent.clientId).catch((err: unknown) => {
    if (isStoreUnavailable(err)) throw err;
    return undefined;
  });
  if (!client) return flows.pages.error('invalid_client', 'This application is no longer registered.');
  const { identity: _none, ...authorization } = consent;
  const remembered = await flows.consentMemory.remember(request, approvalOf(authorization));
  // The flow record lives `loginTtlSeconds` from now: so must the cookie that proves the browser.
  const renewed = await flows.binding.renew(request);
  return beginLogin(ctx, client, { ...authorization, consented: true }, [renewed, remembered]);
}

/**
 * `POST /consent`: the user's decision. Refused unless it comes from our own
 * page (`Sec-Fetch-Site`/`Origin` when the browser sends them), carries the
 * CSRF token minted for this consent and browser, and the browser still holds
 * the binding cookie. The consent id is single-use; `GET /consent?flow=`
 * shows the page ({@link parkConsent} sends the browser there).
 */
export function consentRoutes(ctx: ServerContext): Route[] {
  const issuerOrigin = new URL(ctx.issuer).origin;
  const handler = async (request: Request): Promise<Response> => {
    const flows = flowServices(ctx);
    const forbidden = (description: string) => flows.pages.error('access_denied', description, 403);
    if (isCrossSitePost(request, issuerOrigin))
      return forbidden('This form can only be sent from this site.');
    let form: Record<string, string>;
    try {
      form = await readForm(request, 8 * 1024);
    } catch (err) {
      if (err instanceof OAuthError)
        return flows.pages.error(err.error, err.description ?? 'bad request', err.status);
      throw err;
    }
    const consentId = form.consent_id ?? '';
    if (!consentId || consentId.length > 200)
      return flows.pages.error('invalid_request', 'The consent form is incomplete.');
    const hash = await hashSecret(consentId);
    const key = pendingKey(hash);
    const consent = await ctx.store.get<PendingConsent>(key);
    if (!consent)
      return flows.pages.error(
        'invalid_request',
        'This consent request has expired or was already answered.',
      );
    const expected = await csrfToken(ctx, consentId, consent.binding);
    if (!sameToken(form.csrf, expected) || !(await flows.binding.matches(request, consent.binding))) {
      return forbidden('This consent form does not belong to this browser session.');
    }
    if (!(await ctx.store.take(key))) {
      return flows.pages.error(
        'invalid_request',
        'This consent request has expired or was already answered.',
      );
    }
    const decision = form.decision === 'approve' ? 'approve' : 'deny';
    const answered: AnsweredConsent = {
      binding: consent.binding,
      decision,
      ...(consent.identity ? {} : { beforeLogin: true as const }),
    };
    await ctx.store.set(answeredKey(hash), answered, ctx.options.loginTtlSeconds * 1000);
    if (decision !== 'approve') {
      return redirectError(
        ctx,
        consent.redirectUri,
        consent.state,
        'access_denied',
        'the user denied the request',
      );
    }
    if (!consent.identity) return approvedBeforeLogin(ctx, request, consent);
    const grant = await recordConsent(ctx, consent, consent.identity);
    return issueCodeAndRedirect(ctx, consent, consent.identity, grant.id);
  };
  return [
    {
      method: 'GET',
      path: `${ctx.issuerPath}/consent`,
      handler: (request: Request, _c: ServerContext, { url }: { url: URL }) => showConsent(ctx, request, url),
      page: true,
    },
    { method: 'POST', path: `${ctx.issuerPath}/consent`, handler, page: true },
  ];
}
