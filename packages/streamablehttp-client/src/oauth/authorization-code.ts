/**
 * The authorization-code grant with PKCE (OAuth 2.1 §4.1, RFC 7636 S256),
 * the RFC 8707 `resource`, and `dpop_jkt` when the code is bound to a DPoP key
 * (RFC 9449 §10): the authorization URL, the browser round trip through the
 * loopback callback, and the code's redemption.
 */
import * as oauth from 'oauth4webapi';
import type { StoredClient } from '../store/types.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { validateAuthorizationResponse } from './authorization-response.js';
import type { CallbackServer } from './callback-server.js';
import { withDPoPNonceRetry } from './dpop.js';
import { requestOptions, toOAuthClient, withClientAuthFallback, type OAuthHttp } from './oauth4.js';

/** One sign-in's authorization-code grant. */
export interface AuthorizationCodeGrant<T> {
  as: AuthorizationServerMetadata;
  client: StoredClient;
  /** The running loopback callback; its `redirectUri` is the one sent. */
  callback: CallbackServer;
  /** RFC 8707 resource: the MCP server. */
  resource: string;
  scope: string | undefined;
  /** Proofs on the token request, and the code bound to their key. */
  dpop: oauth.DPoPHandle | undefined;
  http: OAuthHttp;
  /** Shows (and opens) the authorization URL. */
  announce: (url: string) => Promise<void>;
  /** How long to wait for the browser to come back. */
  timeoutMs: number;
  /** The client's authentication at the token endpoint, asked for once the browser is back. */
  clientAuth: () => Promise<oauth.ClientAuth>;
  /** Called when `client_secret_basic` was refused and `client_secret_post` is tried. */
  onBasicRefused: (reason: string) => void;
  /** Keeps the tokens; the browser hears the sign-in worked only once it has. */
  finish: (tr: oauth.TokenEndpointResponse) => Promise<T>;
  /** What the browser's page says when it worked. */
  successMessage: string;
}

/**
 * Runs the grant: sends the user to the authorization endpoint, checks the
 * authorization response (`state`, `iss`: see `authorization-response.ts`),
 * redeems the code and hands the tokens to `finish`. The browser's page says
 * whether all of that worked.
 */
export async function authorizationCodeGrant<T>(g: AuthorizationCodeGrant<T>): Promise<T> {
  const { as, client, callback } = g;
  const oc = toOAuthClient(client);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: callback.redirectUri,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    resource: g.resource,
  };
  if (g.scope) params.scope = g.scope;
  // RFC 9449 §10: the code is bound to our key, so only our proof redeems it.
  if (g.dpop) params.dpop_jkt = await g.dpop.calculateThumbprint();
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  await g.announce(url.href);
  const hit = await callback.next(g.timeoutMs);
  let out: T;
  try {
    const callbackParams = validateAuthorizationResponse(as, oc, hit.url, state);
    const tr = await withClientAuthFallback(
      client,
      'token request',
      (auth) =>
        withDPoPNonceRetry(g.dpop, async () =>
          oauth.processAuthorizationCodeResponse(
            as,
            oc,
            await oauth.authorizationCodeGrantRequest(
              as,
              oc,
              auth,
              callbackParams,
              callback.redirectUri,
              verifier,
              {
                ...requestOptions(g.http, as.token_endpoint, g.dpop),
                additionalParameters: { resource: g.resource },
              },
            ),
          ),
        ),
      g.onBasicRefused,
      await g.clientAuth(),
    );
    out = await g.finish(tr);
  } catch (err) {
    hit.respond(false, err instanceof Error ? err.message : String(err));
    throw err;
  }
  hit.respond(true, g.successMessage);
  return out;
}
