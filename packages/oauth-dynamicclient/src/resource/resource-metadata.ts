import {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadata,
} from '../endpoints/protected-resource.js';

/** Options of the RFC 9728 protected-resource document helpers. */
export interface ProtectedResourceOptions {
  /** The resource identifier (the MCP endpoint's URL). */
  resource: string;
  /** Issuer of the authorization server(s) that issue tokens for it. */
  authorizationServers: string[];
  /** `scopes_supported`. */
  scopes?: string[];
  /** `resource_name`. */
  name?: string;
  /**
   * The resource accepts DPoP (RFC 9449): `dpop_signing_alg_values_supported`,
   * and `dpop_bound_access_tokens_required` when `required`.
   */
  dpop?: { algorithms: readonly string[]; required?: boolean };
}

/** The RFC 9728 document and the path it is served at (`/.well-known/oauth-protected-resource/<path>`). */
export function protectedResourceDocument(options: ProtectedResourceOptions): {
  path: string;
  document: ProtectedResourceMetadata;
} {
  const [first, ...rest] = options.authorizationServers;
  if (!first) throw new TypeError('authorizationServers must name at least one issuer');
  const document = protectedResourceMetadata(first, {
    resource: options.resource,
    ...(options.scopes ? { scopes: options.scopes } : {}),
    ...(options.name ? { name: options.name } : {}),
  });
  document.authorization_servers = [first, ...rest];
  if (options.dpop) {
    document.dpop_signing_alg_values_supported = [...options.dpop.algorithms];
    if (options.dpop.required) document.dpop_bound_access_tokens_required = true;
  }
  return { path: new URL(protectedResourceMetadataUrl(options.resource)).pathname, document };
}
