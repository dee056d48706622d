import type { Client } from '../clients/records.js';
import { isLoopbackIpRedirect, redirectHost } from '../clients/redirect-uri.js';
import type { ServerContext } from '../context.js';
import { flowServices } from './flow-services.js';

// An authorization request between `/authorize` and the code, and how its errors reach the
// client: shared by `/authorize`, the consent page, the sign-in and `/callback`.

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
  /**
   * The user approved this request on the consent page before signing in
   * (`needsConsentBeforeLogin`): the callback records the grant and
   * issues the code without asking again.
   */
  consented?: true;
}

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

/** An authorization request before the sign-in: everything but the provider's private data. */
export type AuthorizationBeforeLogin = Omit<PendingAuthorization, 'idpData'>;
