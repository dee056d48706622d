import type { Identity } from './identity.js';

/** A token was missing, invalid or lacked a scope: the 401/403 a client receives. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    /** 401 for a missing or bad token, 403 for a missing scope. */
    readonly status: 401 | 403,
    /** RFC 6750 error code, or `undefined` when no token was sent. */
    readonly error: 'invalid_token' | 'insufficient_scope' | 'invalid_request' | undefined,
    readonly description: string,
  ) {
    super(description);
  }
}

/** A protected resource the authorization server issues tokens for. */
export interface ResourceDescriptor {
  resource: string;
  scopes: string[];
  name: string;
  /** `false`: keep its scopes out of the authorization server's metadata (a service restricted to some users). */
  advertise?: boolean;
}

/**
 * What the gateway needs from an authorization server. `createGateway` builds
 * one from `@mcp-gateway/oauth-dynamicclient`; tests and other setups may
 * plug in another.
 */
export interface GatewayAuth {
  /** Serves the authorization-server endpoints (metadata, registration, login, consent, token, `/verify`, …). */
  fetch(request: Request): Promise<Response>;
  /** Checks an access token for `resource` and `scopes`; throws {@link AuthError}. */
  verify(token: string, opts: { resource: string; scopes: string[] }): Promise<Identity>;
  /** Called when services (and so resources) change at runtime. */
  setResources?(resources: ResourceDescriptor[]): void | Promise<void>;
  /** True when the authorization server's store is reachable. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** The bearer token of a request (`Authorization: Bearer …` only), or `undefined`. */
export function bearerToken(request: Request): string | undefined {
  return bearerFromHeader(request.headers.get('authorization'));
}

/** The bearer token in an `Authorization` header value; throws {@link AuthError} when malformed. */
export function bearerFromHeader(h: string | null | undefined): string | undefined {
  if (!h) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(h);
  if (!m) throw new AuthError(401, 'invalid_request', 'malformed Authorization header (expected Bearer)');
  return m[1];
}

/** The `WWW-Authenticate` challenge for a protected resource (RFC 6750 §3, RFC 9728 §5.1). */
export function challenge(metadataUrl: string, scopes: string[], err?: AuthError): string {
  const parts = [`resource_metadata="${metadataUrl}"`];
  if (scopes.length) parts.push(`scope="${scopes.join(' ')}"`);
  if (err?.error) {
    parts.push(`error="${err.error}"`);
    parts.push(`error_description="${err.description.replace(/["\\]/g, '')}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}
