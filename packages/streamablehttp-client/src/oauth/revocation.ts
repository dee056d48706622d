/** RFC 7009 token revocation, for `logout`. */
import * as oauth from 'oauth4webapi';
import type { StoredClient } from '../store/types.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { clientAuthFor, requestOptions, toOAuthClient, type OAuthHttp } from './oauth4.js';

/**
 * Revokes `refreshToken` at `as`'s `revocation_endpoint` (with the hint
 * `refresh_token`). The caller checks the endpoint exists.
 * @throws the server's refusal or a network error.
 */
export async function revokeRefreshToken(
  as: AuthorizationServerMetadata,
  client: StoredClient,
  refreshToken: string,
  http: OAuthHttp,
): Promise<void> {
  const response = await oauth.revocationRequest(
    as,
    toOAuthClient(client),
    clientAuthFor(client),
    refreshToken,
    {
      ...requestOptions(http, as.revocation_endpoint),
      additionalParameters: { token_type_hint: 'refresh_token' },
    },
  );
  await oauth.processRevocationResponse(response);
}
