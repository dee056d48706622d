/**
 * `@mcp-gateway/oauth-dynamicclient/hono`: protect an MCP endpoint in Hono
 * (any runtime) with tokens from this authorization server.
 *
 * ```ts
 * app.post('/mcp', bearerAuth({ verifier: as, resource, scopes: ['mcp'] }), (c) => {
 *   const auth = c.get('auth'); // the MCP SDK's AuthInfo
 * });
 * ```
 */
import type { MiddlewareHandler } from 'hono';
import { bearerAuthCheck, type BearerAuthOptions } from './bearer-auth.js';
import type { McpAuthInfo } from './mcp-verifier.js';
import { protectedResourceDocument, type ProtectedResourceOptions } from './resource-metadata.js';

export type { BearerAuthOptions } from './bearer-auth.js';
export type { McpAuthInfo } from './mcp-verifier.js';
export type { ProtectedResourceOptions } from './resource-metadata.js';

/** Context variables {@link bearerAuth} sets: `c.get('auth')`. */
export interface BearerAuthEnv {
  Variables: { auth: McpAuthInfo };
}

/**
 * Middleware: the request's bearer token must be valid for `resource` with
 * `scopes`, else it answers 401 (no or refused token) or 403
 * (`insufficient_scope`) with the RFC 6750/9728 `WWW-Authenticate`
 * challenge, or 503 when the store cannot be reached. On success
 * `c.get('auth')` holds the MCP SDK's `AuthInfo` (`extra.sub` is the
 * immutable user id); pass it on as `transport.handleRequest(c.req.raw, { authInfo })`.
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<BearerAuthEnv> {
  const check = bearerAuthCheck(options);
  return async (c, next) => {
    const result = await check(c.req.header('authorization'), {
      method: c.req.method,
      url: options.publicUrl ? options.publicUrl(c.req.raw) : c.req.url,
      dpop: c.req.header('dpop'),
    });
    if (!result.ok) return result.response;
    c.set('auth', result.auth);
    await next();
  };
}

/**
 * Middleware serving the RFC 9728 protected-resource document at
 * `/.well-known/oauth-protected-resource/<resource path>` (register it with
 * `app.use(...)`); other requests pass through. Not needed when the
 * authorization server answers on the same app and lists the resource.
 */
export function protectedResourceMetadata(options: ProtectedResourceOptions): MiddlewareHandler {
  const { path, document } = protectedResourceDocument(options);
  const body = JSON.stringify(document);
  return async (c, next) => {
    // Hono dispatches HEAD as GET and drops the body.
    if (c.req.path !== path || c.req.method !== 'GET') return next();
    return c.body(body, 200, {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
  };
}
