// The authorization server core as a plain fetch handler, shared by the Bun,
// Deno and Workers entries next to this file. It imports only the package's
// root export and web APIs: no node:http, no adapter.
import {
  createAuthorizationServer,
  type AuthorizationServer,
  type RequestInfo,
} from '@mcp-gateway/oauth-dynamicclient';

export interface AppEnv {
  /** The URL the runtime listens on. */
  ISSUER: string;
  /** `hashPassword(...)` of user `demo`. */
  PASSWORD_HASH: string;
  /** When set: the request header that names the client address (Workers: `cf-connecting-ip`). */
  RATE_LIMIT_HEADER?: string;
}

/**
 * Builds the handler. The server itself is created on the first request:
 * Workers allow timers and random values only while handling one.
 */
export function createApp(env: AppEnv): (request: Request, info?: RequestInfo) => Promise<Response> {
  let as: AuthorizationServer | undefined;
  const resource = `${env.ISSUER}/mcp`;
  return async (request, info) => {
    const header = env.RATE_LIMIT_HEADER;
    as ??= createAuthorizationServer({
      issuer: env.ISSUER,
      resources: [{ resource, scopes: ['mcp'], name: 'Runtime test' }],
      identityProvider: { type: 'local', users: [{ username: 'demo', passwordHash: env.PASSWORD_HASH }] },
      ...(header ? { rateLimitSource: (req: Request) => req.headers.get(header) ?? 'unknown' } : {}),
    });
    if (new URL(request.url).pathname === '/mcp') {
      const check = await as.requireBearer({ resource, scopes: ['mcp'] })(request);
      return check.ok ? Response.json({ sub: check.token.sub }) : check.response;
    }
    return as.fetch(request, info);
  };
}
