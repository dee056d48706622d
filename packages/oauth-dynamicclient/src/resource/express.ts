/**
 * `@mcp-gateway/oauth-dynamicclient/express`: protect an MCP endpoint in
 * Express (4 or 5) with tokens from this authorization server.
 *
 * ```ts
 * app.post('/mcp', bearerAuth({ verifier: as, resource, scopes: ['mcp'] }), handler);
 * // handler: req.auth is the MCP SDK's AuthInfo; the SDK's transports pass it to tools as `authInfo`.
 * ```
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { writeWebResponse } from '../adapters/node.js';
import { bearerAuthCheck, type BearerAuthOptions } from './bearer-auth.js';
import type { McpAuthInfo } from './mcp-verifier.js';
import { protectedResourceDocument, type ProtectedResourceOptions } from './resource-metadata.js';

export type { BearerAuthOptions } from './bearer-auth.js';
export type { McpAuthInfo } from './mcp-verifier.js';
export type { ProtectedResourceOptions } from './resource-metadata.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified token (set by {@link bearerAuth}), as the MCP SDK's `AuthInfo`. */
    auth?: McpAuthInfo;
  }
}

/**
 * Middleware: the request's bearer token must be valid for `resource` with
 * `scopes`, else it answers 401 (no or refused token) or 403
 * (`insufficient_scope`) with the RFC 6750/9728 `WWW-Authenticate`
 * challenge, or 503 when the store cannot be reached. On success `req.auth`
 * holds the MCP SDK's `AuthInfo` (`extra.sub` is the immutable user id).
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const check = bearerAuthCheck(options);
  return (req: Request, res: Response, next: NextFunction) => {
    const http = {
      method: req.method,
      url: `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`,
      dpop: req.get('dpop'),
    };
    check(req.headers.authorization, http).then(
      async (result) => {
        if (result.ok) {
          req.auth = result.auth;
          next();
        } else {
          await writeWebResponse(res, result.response);
        }
      },
      (err: unknown) => next(err),
    );
  };
}

/**
 * Middleware serving the RFC 9728 protected-resource document at
 * `/.well-known/oauth-protected-resource/<resource path>` (mount it at the
 * app's root); other requests pass through. Not needed when the
 * authorization server is mounted in the same app and lists the resource:
 * it serves the document itself.
 */
export function protectedResourceMetadata(options: ProtectedResourceOptions): RequestHandler {
  const { path, document } = protectedResourceDocument(options);
  const body = JSON.stringify(document);
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.path !== path || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res
      .status(200)
      .set({
        'content-type': 'application/json',
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
      })
      .send(body);
  };
}
