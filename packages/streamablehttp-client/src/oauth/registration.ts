import * as oauth from 'oauth4webapi';
import { AuthError, DiscoveryError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
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
  /**
   * OIDC Dynamic Client Registration `application_type`. MCP 2026-07-28
   * (SEP-837) requires clients to send it: `native` for CLI and desktop
   * clients with loopback redirects (the OIDC default `web` forbids them).
   */
  application_type?: 'native' | 'web';
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
 * The response is read leniently (see {@link parseRegistrationResponse}).
 */
export async function registerClient(
  as: AuthorizationServerMetadata,
  metadata: ClientRegistrationMetadata,
  http: OAuthHttp,
  log: Logger = silentLogger,
): Promise<StoredClient> {
  if (!as.registration_endpoint) {
    throw new DiscoveryError(
      'registration_not_supported',
      `authorization server ${as.issuer} offers no dynamic client registration; pass --client-id (and --client-secret)${
        supportsCimd(as) ? ' or --client-metadata-url' : ''
      }`,
    );
  }
  let response: Response;
  try {
    response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        ...metadata,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      requestOptions(http, as.registration_endpoint),
    );
  } catch (err) {
    throw toAuthError(err, 'client registration (RFC 7591)');
  }
  return parseRegistrationResponse(response, as.registration_endpoint, metadata, log);
}

/**
 * Reads an RFC 7591 §3.2 registration response the way servers in the field
 * send it: any 2xx JSON object with a non-empty string `client_id` is
 * accepted. A missing or non-numeric `client_secret_expires_at` means "does
 * not expire"; other deviations (status other than 201, malformed optional
 * members) are logged as warnings naming the endpoint and the rule. An error
 * response (§3.2.2) keeps its `error` code.
 */
export async function parseRegistrationResponse(
  response: Response,
  endpoint: string,
  metadata: ClientRegistrationMetadata,
  log: Logger = silentLogger,
): Promise<StoredClient> {
  const where = `registration endpoint ${endpoint}`;
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const obj =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (response.status < 200 || response.status > 299) {
    const error = typeof obj?.error === 'string' ? obj.error : 'invalid_response';
    const description = typeof obj?.error_description === 'string' ? ` (${obj.error_description})` : '';
    throw new AuthError(
      error,
      `client registration (RFC 7591) failed: ${error}${description} [HTTP ${response.status}]`,
    );
  }
  if (!obj) {
    throw new AuthError(
      'invalid_response',
      `${where} broke RFC 7591 §3.2.1: the registration response is not a JSON object [HTTP ${response.status}]`,
    );
  }
  if (typeof obj.client_id !== 'string' || !obj.client_id) {
    throw new AuthError(
      'invalid_response',
      `${where} broke RFC 7591 §3.2.1: the registration response has no client_id`,
    );
  }
  const deviations: string[] = [];
  if (response.status !== 201) deviations.push(`answered HTTP ${response.status} instead of 201`);
  const out: StoredClient = {
    ...obj,
    client_id: obj.client_id,
    redirect_uris: metadata.redirect_uris,
    source: 'dcr',
  };
  if (Array.isArray(obj.redirect_uris) && obj.redirect_uris.every((u) => typeof u === 'string')) {
    out.redirect_uris = obj.redirect_uris;
  } else if (obj.redirect_uris !== undefined) deviations.push('redirect_uris is not an array of strings');
  if (obj.client_secret !== undefined && typeof obj.client_secret !== 'string') {
    deviations.push('client_secret is not a string; ignored');
    delete out.client_secret;
  }
  if (typeof out.client_secret === 'string' && typeof obj.client_secret_expires_at !== 'number') {
    // §3.2.1 makes it REQUIRED with a secret; without it the secret is taken not to expire (0).
    deviations.push(
      obj.client_secret_expires_at === undefined
        ? 'client_secret_expires_at is missing; taken as "does not expire"'
        : 'client_secret_expires_at is not a number; taken as "does not expire"',
    );
    out.client_secret_expires_at = 0;
  }
  for (const key of [
    'client_id_issued_at',
    'registration_client_uri',
    'registration_access_token',
  ] as const) {
    const want = key === 'client_id_issued_at' ? 'number' : 'string';
    if (obj[key] !== undefined && typeof obj[key] !== want) {
      deviations.push(`${key} is not a ${want}; ignored`);
      delete out[key];
    }
  }
  if (deviations.length) {
    log.warn(`${where} deviates from RFC 7591 §3.2.1; registration accepted`, {
      client_id: out.client_id,
      deviations,
    });
  }
  return out;
}
