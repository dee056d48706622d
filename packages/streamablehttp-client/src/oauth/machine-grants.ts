/**
 * The grants without a browser, for a pre-registered client or a workload:
 * `client_credentials` (OAuth 2.1 §4.2, MCP SEP-1046), `id_jag` (MCP SEP-990:
 * an ID-JAG from the enterprise IdP, then the RFC 7523 JWT-bearer grant) and
 * `jwt_bearer` (MCP SEP-1933 workload identity: the platform's JWT as the
 * RFC 7523 assertion).
 */
import type * as oauth from 'oauth4webapi';
import type { Logger } from '../log.js';
import type { StoredClient } from '../store/types.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { JWT_BEARER_GRANT, requestIdJag, type IdentityProviderOptions } from './id-jag.js';
import {
  genericGrant,
  toAuthError,
  toOAuthClient,
  withClientAuthFallback,
  type OAuthHttp,
} from './oauth4.js';
import { readWorkloadToken, type WorkloadTokenSource } from './workload.js';

/** The grants {@link machineGrant} runs. */
export type MachineGrant = 'client_credentials' | 'id_jag' | 'jwt_bearer';

/** What one {@link machineGrant} request needs. */
export interface MachineGrantRequest {
  grant: MachineGrant;
  as: AuthorizationServerMetadata;
  /** RFC 8707 resource. */
  resource: string;
  scope?: string | undefined;
  /** The pre-registered client; none for a workload the server knows by its token alone. */
  client: StoredClient | undefined;
  /** Its token-endpoint authentication. */
  auth: oauth.ClientAuth;
  identityProvider?: IdentityProviderOptions | undefined;
  workloadToken?: WorkloadTokenSource | undefined;
  /** DPoP proofs on the token request (RFC 9449 §5). */
  dpop?: oauth.DPoPHandle | undefined;
  http: OAuthHttp;
  log: Logger;
  /** Called when `client_secret_basic` was refused and `client_secret_post` is tried. */
  onBasicRefused: (reason: string) => void;
}

/** No client authentication and no `client_id`: a workload known by its assertion alone (RFC 7523 §3.1). */
const noClientAuth: oauth.ClientAuth = () => {};

/** One token request with a grant that needs no browser. Errors are those of the token endpoint, never retried with another grant. */
export async function machineGrant(r: MachineGrantRequest): Promise<oauth.TokenEndpointResponse> {
  const { as, grant } = r;
  const grantType = grant === 'client_credentials' ? 'client_credentials' : JWT_BEARER_GRANT;
  if (as.grant_types_supported && !as.grant_types_supported.includes(grantType)) {
    r.log.warn('the authorization server does not list the grant in grant_types_supported; trying it', {
      issuer: as.issuer,
      grant_type: grantType,
    });
  }
  const params: Record<string, string> = { resource: r.resource };
  if (r.scope) params.scope = r.scope;
  if (grant === 'id_jag') {
    params.assertion = await requestIdJag(
      r.identityProvider!,
      { audience: as.issuer, resource: r.resource, ...(r.scope ? { scope: r.scope } : {}) },
      r.http,
      (reason) =>
        r.log.warn('identity provider refused client_secret_basic; retrying with client_secret_post', {
          token_endpoint: r.identityProvider!.tokenEndpoint,
          reason,
        }),
    );
  } else if (grant === 'jwt_bearer') {
    // Read on every request: platforms rotate the token file in place.
    params.assertion = await readWorkloadToken(r.workloadToken!);
  }
  const what = {
    client_credentials: 'client_credentials grant',
    id_jag: 'JWT bearer grant (RFC 7523) with the ID-JAG',
    jwt_bearer: 'JWT bearer grant (RFC 7523) with the workload token',
  }[grant];
  const run = (client: oauth.Client, auth: oauth.ClientAuth) =>
    genericGrant(as, client, auth, grantType, params, r.http, undefined, r.dpop);
  const where = `${what} at ${as.token_endpoint}`;
  if (!r.client)
    return run({ client_id: 'workload' }, noClientAuth).catch((err: unknown) => {
      throw toAuthError(err, where);
    });
  const client = r.client;
  return withClientAuthFallback(
    client,
    where,
    (auth) => run(toOAuthClient(client), auth),
    r.onBasicRefused,
    r.auth,
  );
}
