/**
 * Cross-app access (MCP SEP-990, "Enterprise-Managed Authorization"): the
 * enterprise identity provider turns the user's ID token into an Identity
 * Assertion JWT Authorization Grant (ID-JAG) by token exchange (RFC 8693),
 * and the MCP server's authorization server turns the ID-JAG into an access
 * token with the JWT bearer grant (RFC 7523 §2.1). No browser is involved.
 */
import type * as oauth from 'oauth4webapi';
import { AuthError } from '../errors.js';
import type { StoredClient } from '../store/types.js';
import { genericGrant, withClientAuthFallback, type OAuthHttp } from './oauth4.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** The enterprise identity provider and what the client holds there. */
export interface IdentityProviderOptions {
  /** The IdP's token endpoint. */
  tokenEndpoint: string;
  /** The IdP's issuer (informational; default: the token endpoint's origin). */
  issuer?: string;
  /** This client's id at the IdP. */
  clientId: string;
  /** Its secret there (`client_secret_basic`, falling back to `client_secret_post`); none: public client. */
  clientSecret?: string;
  /** The user's token at the IdP (RFC 8693 `subject_token`), usually an ID token. */
  subjectToken: string;
  /** Its RFC 8693 type. Default `urn:ietf:params:oauth:token-type:id_token`. */
  subjectTokenType?: string;
}

/** What the ID-JAG is for. */
export interface IdJagRequest {
  /** The MCP authorization server's issuer (RFC 8693 `audience`; the ID-JAG's `aud`). */
  audience: string;
  /** The MCP server's resource identifier (RFC 8707 `resource`). */
  resource: string;
  scope?: string;
}

/**
 * RFC 8693 token exchange at the IdP for an ID-JAG
 * (`requested_token_type=urn:ietf:params:oauth:token-type:id-jag`). Returns
 * the ID-JAG. Errors name the IdP's token endpoint and the rule broken.
 */
export async function requestIdJag(
  idp: IdentityProviderOptions,
  req: IdJagRequest,
  http: OAuthHttp,
  onFallback?: (reason: string) => void,
): Promise<string> {
  const as: oauth.AuthorizationServer = {
    issuer: idp.issuer ?? new URL(idp.tokenEndpoint).origin,
    token_endpoint: idp.tokenEndpoint,
  };
  const client: StoredClient = { client_id: idp.clientId, redirect_uris: [], source: 'static' };
  if (idp.clientSecret) client.client_secret = idp.clientSecret;
  const params: Record<string, string> = {
    requested_token_type: ID_JAG_TOKEN_TYPE,
    audience: req.audience,
    resource: req.resource,
    subject_token: idp.subjectToken,
    subject_token_type: idp.subjectTokenType ?? ID_TOKEN_TYPE,
  };
  if (req.scope) params.scope = req.scope;
  const what = `token exchange for an ID-JAG at the identity provider ${idp.tokenEndpoint}`;
  const tr = await withClientAuthFallback(
    client,
    what,
    (auth) =>
      // RFC 8693 §2.2.1: an issued token that is no access token has token_type N_A.
      genericGrant(as, { client_id: idp.clientId }, auth, TOKEN_EXCHANGE_GRANT, params, http, {
        n_a: () => undefined,
      }),
    onFallback,
  );
  const issued = (tr as { issued_token_type?: unknown }).issued_token_type;
  if (issued !== ID_JAG_TOKEN_TYPE) {
    throw new AuthError(
      'invalid_response',
      `${what} failed: the identity provider answered issued_token_type ${JSON.stringify(issued)}; RFC 8693 §2.2.1 requires it, and SEP-990 requires ${ID_JAG_TOKEN_TYPE}`,
    );
  }
  return tr.access_token;
}
