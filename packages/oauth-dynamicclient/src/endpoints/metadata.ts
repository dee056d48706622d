import type { Route, ServerContext } from '../context.js';
import { tokenEndpointAuthMethods } from '../clients/metadata.js';
import { assertionAlgorithms } from '../grants/options.js';
import { enabledGrants } from './token.js';
import { OFFLINE_ACCESS } from '../grants/offline-access.js';
import { publicJson } from '../http/responses.js';
import { dpopVerifier } from '../dpop/services.js';

/** RFC 8414 authorization server metadata (also served as OpenID discovery). */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  registration_endpoint?: string;
  revocation_endpoint: string;
  introspection_endpoint: string;
  scopes_supported: string[];
  response_types_supported: ['code'];
  response_modes_supported: ['query'];
  grant_types_supported: string[];
  code_challenge_methods_supported: ['S256'];
  token_endpoint_auth_methods_supported: string[];
  /** JWS algorithms of `private_key_jwt` client assertions. */
  token_endpoint_auth_signing_alg_values_supported: string[];
  revocation_endpoint_auth_methods_supported: string[];
  introspection_endpoint_auth_methods_supported: string[];
  authorization_response_iss_parameter_supported: true;
  client_id_metadata_document_supported: boolean;
  /** RFC 9449 §5.1: JWS algorithms accepted in DPoP proofs. */
  dpop_signing_alg_values_supported?: string[];
}

/** Builds the metadata document for this server. Endpoints are the issuer plus a fixed path. */
export function authorizationServerMetadata(ctx: ServerContext): AuthorizationServerMetadata {
  const authMethods = [...tokenEndpointAuthMethods];
  return {
    issuer: ctx.issuer,
    authorization_endpoint: ctx.endpoint('/authorize'),
    token_endpoint: ctx.endpoint('/token'),
    jwks_uri: ctx.endpoint('/jwks'),
    ...(ctx.options.registration.enabled ? { registration_endpoint: ctx.endpoint('/register') } : {}),
    revocation_endpoint: ctx.endpoint('/revoke'),
    introspection_endpoint: ctx.endpoint('/introspect'),
    // SEP-2207: clients add `offline_access` to ask for a refresh token when it is listed here.
    scopes_supported: [...new Set([...ctx.resources.advertisedScopes, OFFLINE_ACCESS])],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...enabledGrants(ctx).keys()],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods.filter((m) => m !== 'none'),
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.options.cimd.enabled,
    ...(ctx.options.dpop.enabled ? { dpop_signing_alg_values_supported: dpopVerifier(ctx).algorithms } : {}),
  };
}

/**
 * Discovery routes: RFC 8414 `/.well-known/oauth-authorization-server` with the
 * issuer path inserted after it (§3.1), OpenID's path-inserted and appended
 * `openid-configuration` forms, and the appended RFC 8414 form some clients try.
 */
export function metadataRoutes(ctx: ServerContext): Route[] {
  const handler = async () => publicJson(authorizationServerMetadata(ctx), ctx.options.metadataMaxAgeSeconds);
  const p = ctx.issuerPath;
  const paths = new Set([
    `/.well-known/oauth-authorization-server${p}`,
    `/.well-known/openid-configuration${p}`,
    `${p}/.well-known/openid-configuration`,
    `${p}/.well-known/oauth-authorization-server`,
  ]);
  return [...paths].map((path) => ({ method: 'GET', path, handler, cors: true }));
}
