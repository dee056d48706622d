import type { Client } from '../clients/records.js';
import { isLoopbackIpRedirect, isLoopbackRedirect, redirectHost } from '../clients/redirect-uri.js';
import type { Route, ServerContext } from '../context.js';
import { OAuthError } from '../http/errors.js';
import { canonicalResource } from '../resource/canonical.js';
import { hashSecret } from '../secrets.js';
import { isStoreUnavailable } from '../store/errors.js';
import { flowServices } from './flow-services.js';
import { withoutOfflineAccess } from '../grants/offline-access.js';

/** An authorization request that passed every check, kept while the user signs in upstream. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  /** Whether `redirect_uri` was sent (then the token request must repeat it). */
  redirectUriExplicit: boolean;
  state?: string;
  codeChallenge: string;
  /** Configured resource (the tokens' audience). */
  resource: string;
  scopes: string[];
  /** Hash of the browser-binding cookie value. */
  binding: string;
  /** The provider's private data (PKCE verifier, nonce). */
  idpData: Record<string, string>;
  /** RFC 9449 §10 `dpop_jkt`: the code may only be redeemed with a proof of this key. */
  dpopJkt?: string;
}

const PKCE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** The client's redirect URI carrying an error (RFC 6749 §4.1.2.1 + RFC 9207 `iss`). */
function errorRedirectUrl(
  ctx: ServerContext,
  redirectUri: string,
  state: string | undefined,
  error: string,
  description: string,
): string {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state !== undefined) url.searchParams.set('state', state);
  url.searchParams.set('iss', ctx.issuer);
  return url.href;
}

/** An error the client learns about through its redirect URI (RFC 6749 §4.1.2.1 + RFC 9207 `iss`). */
export function redirectError(
  ctx: ServerContext,
  redirectUri: string,
  state: string | undefined,
  error: string,
  description: string,
): Response {
  const location = errorRedirectUrl(ctx, redirectUri, state, error, description);
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
}

/** Status of the error page per error code: the provider's faults are 5xx, a refused user 403. */
const pageStatus: Record<string, number> = {
  temporarily_unavailable: 503,
  server_error: 502,
  access_denied: 403,
};

/**
 * An error of an authorization request the user did not cause on this
 * server's pages: found by `/authorize`, or a sign-in that failed at
 * `/callback` (refused by the allow-list, failed or denied upstream, where an
 * existing session may answer without the user doing anything).
 *
 * - A static client's redirect URI was configured by the operator and is
 *   trusted: the browser goes back at once ({@link redirectError}).
 * - A self-registered (dynamic or CIMD) client whose redirect URI is a
 *   loopback IP literal (`http://127.0.0.1:port/…`, `http://[::1]:port/…`,
 *   RFC 8252 §7.3, a native app such as a CLI) is redirected at once too. The
 *   open-redirector threat of RFC 9700 §4.11.2 is a link on our origin that
 *   lands the user on a site the attacker controls (phishing); a loopback IP
 *   literal lands on the user's own machine, never leaves it (RFC 8252 §8.3),
 *   and an attacker could link there directly without us. RFC 9700 §4.11.2
 *   lets the authorization server decide which redirect URIs it trusts
 *   ("SHOULD only automatically redirect the user agent if it trusts the
 *   redirect URI"); without the redirect a CLI would never learn that the
 *   sign-in failed and would wait for its timeout. `localhost` is not counted
 *   ({@link isLoopbackIpRedirect}, RFC 8252 §8.3: a name may resolve elsewhere).
 * - Any other self-registered redirect URI may name any site: an automatic
 *   redirect would make this server an open redirector (RFC 9700 §4.11.2), so
 *   the error page is shown (`400`; `503`, `502` or `403` for
 *   `temporarily_unavailable`, `server_error` and `access_denied`), with a
 *   link the user may follow to give the client its error.
 *
 * Only a Deny on the consent page, which the user answered on this server,
 * redirects every client.
 */
export function requestError(
  ctx: ServerContext,
  client: Client,
  redirectUri: string,
  state: string | undefined,
  error: string,
  description: string,
): Response {
  if (client.kind === 'static' || isLoopbackIpRedirect(redirectUri))
    return redirectError(ctx, redirectUri, state, error, description);
  return flowServices(ctx).pages.error(error, description, pageStatus[error] ?? 400, undefined, {
    href: errorRedirectUrl(ctx, redirectUri, state, error, description),
    host: redirectHost(redirectUri),
  });
}

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
 * A valid request is parked in the store under a random single-use upstream
 * `state` bound to this browser, and the browser goes to the identity provider.
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
      return fail('temporarily_unavailable', 'the identity provider is unavailable');
    }
    const pending: PendingAuthorization = {
      clientId: client.client_id,
      redirectUri,
      redirectUriExplicit: q.has('redirect_uri'),
      ...(state !== undefined ? { state } : {}),
      codeChallenge: challenge,
      ...(dpopJkt !== undefined ? { dpopJkt } : {}),
      resource: target.resource,
      scopes,
      binding,
      idpData: begun.data,
    };
    await ctx.store.set(
      `flow:${await hashSecret(upstreamState)}`,
      pending,
      ctx.options.loginTtlSeconds * 1000,
    );
    return new Response(null, {
      status: 302,
      headers: { location: begun.url, 'cache-control': 'no-store', 'set-cookie': setCookie },
    });
  };
  return [
    { method: 'GET', path: `${ctx.issuerPath}/authorize`, handler, rateLimit: 'authorize', page: true },
  ];
}
