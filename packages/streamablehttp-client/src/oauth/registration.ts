import * as oauth from 'oauth4webapi';
import { DiscoveryError } from '../errors.js';
import type { StoredClient } from '../store/types.js';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { requestOptions, toAuthError, type OAuthHttp } from './oauth4.js';

/** A pre-registered client given on the command line or in options. */
export interface StaticClient {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method?: string;
}

/** Metadata the client registers with (RFC 7591 §2). */
export interface ClientRegistrationMetadata {
  client_name: string;
  redirect_uris: string[];
  scope?: string;
  software_id?: string;
  software_version?: string;
}

/**
 * The client record for a static client and redirect URI. A client with a
 * secret authenticates the way the AS advertises (`client_secret_basic`
 * preferred, RFC 8414 default), else with `client_secret_post`.
 */
export function staticClientRecord(
  client: StaticClient,
  redirectUri: string,
  as?: AuthorizationServerMetadata,
): StoredClient {
  const out: StoredClient = { client_id: client.client_id, redirect_uris: [redirectUri], source: 'static' };
  if (client.client_secret) out.client_secret = client.client_secret;
  let method = client.token_endpoint_auth_method;
  if (!method && client.client_secret) {
    const supported = as?.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    method = supported.includes('client_secret_basic')
      ? 'client_secret_basic'
      : supported.includes('client_secret_post')
        ? 'client_secret_post'
        : 'client_secret_basic';
  }
  out.token_endpoint_auth_method = method ?? 'none';
  return out;
}

/**
 * The client record for a Client ID Metadata Document: the document's URL is
 * the `client_id`; the authorization server fetches it. Used only when the
 * server advertises `client_id_metadata_document_supported`.
 */
export function cimdClientRecord(clientMetadataUrl: string, redirectUri: string): StoredClient {
  return {
    client_id: clientMetadataUrl,
    redirect_uris: [redirectUri],
    source: 'cimd',
    token_endpoint_auth_method: 'none',
  };
}

/** True when the AS accepts Client ID Metadata Documents. */
export function supportsCimd(as: AuthorizationServerMetadata): boolean {
  return as.client_id_metadata_document_supported === true;
}

/**
 * Dynamic client registration (RFC 7591) as a public client
 * (`token_endpoint_auth_method: none`) using the authorization-code grant.
 */
export async function registerClient(
  as: AuthorizationServerMetadata,
  metadata: ClientRegistrationMetadata,
  http: OAuthHttp,
): Promise<StoredClient> {
  if (!as.registration_endpoint) {
    throw new DiscoveryError(
      'registration_not_supported',
      `authorization server ${as.issuer} offers no dynamic client registration; pass --client-id (and --client-secret)${
        supportsCimd(as) ? ' or --client-metadata-url' : ''
      }`,
    );
  }
  try {
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        ...metadata,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      requestOptions(http, as.registration_endpoint),
    );
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    const out: StoredClient = {
      ...(registered as Record<string, unknown>),
      client_id: registered.client_id,
      redirect_uris: Array.isArray(registered.redirect_uris)
        ? (registered.redirect_uris as string[])
        : metadata.redirect_uris,
      source: 'dcr',
    };
    return out;
  } catch (err) {
    throw toAuthError(err, 'client registration (RFC 7591)');
  }
}
