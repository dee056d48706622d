import type { Client } from '../clients/records.js';
import { isLoopbackRedirect } from '../clients/redirect-uri.js';
import type { Route, ServerContext } from '../context.js';
import { OAuthError } from '../http/errors.js';
import { canonicalResource } from '../resource/canonical.js';
import { requestError, type AuthorizationBeforeLogin } from './authorization-request.js';
import { beginLogin, needsConsentBeforeLogin } from './begin-login.js';
import { parkConsent } from './consent.js';
import { flowServices } from './flow-services.js';
import { withoutOfflineAccess } from '../grants/offline-access.js';

const PKCE = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Exact redirect-URI matching; for loopback redirects (RFC 8252 §7.3) the port
 * may differ, since native apps pick one at run time.
 */
export function matchRedirectUri(client: Client, requested: string | undefined): string | undefined {
  const registered = client.metadata.redirect_uris;
  if (requested === undefined) return registered.length === 1 ? registered[0] : undefined;
  if (registered.includes(requested)) return requested;
  let req: URL;
  try {
    req = new URL(requested);
  } catch {
    return undefined;
  }
  if (!isLoopbackRedirect(req) || requested.includes('#') || req.username || req.password) return undefined;
  for (const r of registered) {
    let reg: URL;
    try {
      reg = new URL(r);
    } catch {
      continue;
    }
    if (
      isLoopbackRedirect(reg) &&
      reg.hostname === req.hostname &&
      reg.pathname === req.pathname &&
      reg.search === req.search
    ) {
      return requested;
    }
  }
  return undefined;
}

/** Resolves the RFC 8707 `resource` against the resources now (`ctx.resources`); `undefined` = invalid_target. */
export function resolveResource(
  ctx: ServerContext,
  requested: string | undefined,
): { resource: string; scopes: string[] } | undefined {
  const resources = ctx.resources.list;
  if (requested === undefined) {
    const r = resources.find((x) => x.default) ?? (resources.length === 1 ? resources[0] : undefined);
    return r && { resource: r.resource, scopes: r.scopes ?? [...ctx.resources.scopes] };
  }
  const wanted = canonicalResource(requested);
  if (!wanted) return undefined;
  const r = resources.find((x) => canonicalResource(x.resource) === wanted);
  return r && { resource: r.resource, scopes: r.scopes ?? [...ctx.resources.scopes] };
}

/** Scopes a client may receive for a resource: the resource's, narrowed to the client's registered scope if it has one. */
export function allowedScopes(client: Client, resourceScopes: string[]): string[] {
  const registered = client.metadata.scope?.split(' ').filter(Boolean);
  return registered ? resourceScopes.filter((s) => registered.includes(s)) : resourceScopes;
}

/**
 * `GET /authorize` (OAuth 2.1 §4.1.1 with PKCE S256, RFC 8707, RFC 9207).
 * Until the client and redirect URI are established, errors render an HTML
 * page (never redirect to an unknown URI); afterwards they return to the
 * client with `error`, `state` and `iss`: a static client, or any client whose
 * redirect URI is a loopback IP literal, at once; any other dynamic or CIMD
 * client through a link on the error page ({@link requestError}).
 * A valid request from a self-registered client goes first to the consent
 * page when the identity provider is a third party and this browser has not
 * approved the same request before ({@link needsConsentBeforeLogin}); else
 * it is parked under a random single-use upstream `state` bound to this
 * browser, and the browser goes to the identity provider ({@link beginLogin}).
 */
export function authorizeRoutes(ctx: ServerContext): Route[] {
  const handler = async (request: Request, _ctx: ServerContext, { url }: { url: URL }): Promise<Response> => {
    const flows = flowServices(ctx);
    const q = url.searchParams;
    const page = (error: string, description: string, status = 400) =>
      flows.pages.error(error, description, status);
    for (const name of [
      'client_id',
      'redirect_uri',
      'state',
      'response_type',
      'scope',
      'code_challenge',
      'code_challenge_method',
      'dpop_jkt',
    ]) {
      if (q.getAll(name).length > 1) return page('invalid_request', `The ${name} parameter is repeated.`);
    }
    const clientId = q.get('client_id');
    if (!clientId) return page('invalid_request', 'The request has no client_id.');
    let client: Client | undefined;
    try {
      client = await ctx.clients.get(clientId);
    } catch (err) {
      if (err instanceof OAuthError)
        return page(err.error, err.description ?? 'The client could not be identified.');
      throw err;
    }
    if (!client) return page('invalid_client', 'This application is not registered with this server.');
    const redirectUri = matchRedirectUri(client, q.get('redirect_uri') ?? undefined);
    if (!redirectUri) {
      return page(
        'invalid_redirect_uri',
        'The redirect URI does not match any URI registered for this application.',
      );
    }

    // From here on the redirect URI is the client's: errors go back to it, at once for
    // static clients and loopback IP redirect URIs, through a link on the error page
    // for the others (`requestError`).
    const state = q.get('state') ?? undefined;
    const fail = (error: string, description: string) =>
      requestError(ctx, client, redirectUri, state, error, description);
    if (q.get('response_type') !== 'code')
      return fail('unsupported_response_type', 'response_type must be code');
    if (!ctx.clients.isGrantAllowed(client, 'authorization_code')) {
      return fail('unauthorized_client', 'this client may not use the authorization_code grant');
    }
    const challenge = q.get('code_challenge');
    if (!challenge) return fail('invalid_request', 'code_challenge is required (PKCE S256)');
    if (q.get('code_challenge_method') !== 'S256')
      return fail('invalid_request', 'code_challenge_method must be S256');
    if (!PKCE.test(challenge))
      return fail('invalid_request', 'code_challenge must be 43-128 unreserved characters');
    if (state !== undefined && state.length > 2048) return fail('invalid_request', 'state is too long');
    const dpopJkt = q.get('dpop_jkt') ?? undefined;
    if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt))
      return fail('invalid_request', 'dpop_jkt must be a base64url SHA-256 JWK thumbprint');
    const resources = q.getAll('resource');
    if (resources.length > 1) return fail('invalid_target', 'only one resource per authorization request');
    const target = resolveResource(ctx, resources[0]);
    if (!target)
      return fail(
        'invalid_target',
        resources[0] === undefined ? 'no resource given and no default configured' : 'unknown resource',
      );
    const allowed = allowedScopes(client, target.scopes);
    const requested = q.get('scope');
    let scopes: string[];
    // `offline_access` (SEP-2207) asks for a refresh token, not for access: it is read and dropped here.
    const resourceScopes = withoutOfflineAccess((requested ?? '').split(' ').filter(Boolean));
    if (resourceScopes.length === 0) scopes = allowed;
    else {
      scopes = [...new Set(resourceScopes)];
      const bad = scopes.filter((s) => !allowed.includes(s));
      if (bad.length) return fail('invalid_scope', `scope not allowed: ${bad.join(' ').slice(0, 200)}`);
    }

    const { binding, setCookie } = await flows.binding.ensure(request);
    const authorization: AuthorizationBeforeLogin = {
      clientId: client.client_id,
      redirectUri,
      redirectUriExplicit: q.has('redirect_uri'),
      ...(state !== undefined ? { state } : {}),
      codeChallenge: challenge,
      ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      resource: target.resource,
      scopes,
      binding,
    };
    if (await needsConsentBeforeLogin(ctx, client, request, authorization))
      return parkConsent(ctx, authorization, setCookie);
    return beginLogin(ctx, client, authorization, [setCookie]);
  };
  return [
    { method: 'GET', path: `${ctx.issuerPath}/authorize`, handler, rateLimit: 'authorize', page: true },
  ];
}
