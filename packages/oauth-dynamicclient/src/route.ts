import type { RequestInfo } from './http/rate-limit.js';

// The shape of a route table entry, apart from the server context its handlers receive
// (`Route` in context.ts), so that modules the context depends on (identity providers)
// can declare routes without importing it.

/** HTTP methods routes can answer. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** Per-request values the router hands to a handler. */
export interface RouteRequest {
  /** The parsed request URL. */
  url: URL;
  /** Path parameters (`/register/:clientId` → `{ clientId }`), already percent-decoded. */
  params: Record<string, string>;
  /** Facts from the runtime (peer address). */
  info: RequestInfo;
}

/** A route handler that gets `Ctx` as its second argument (the server's is `RouteHandler`). */
export type RouteHandlerOf<Ctx> = (request: Request, ctx: Ctx, route: RouteRequest) => Promise<Response>;

/** One entry of the route table; `Ctx` is what the handler gets as its second argument. */
export interface RouteOf<Ctx> {
  method: HttpMethod | HttpMethod[];
  /**
   * Absolute path on the host. Build it with `ctx.issuerPath + '/token'` for
   * endpoints under the issuer; well-known documents sit at the host root.
   * `:name` segments become `params.name`.
   */
  path: string;
  handler: RouteHandlerOf<Ctx>;
  /** Add CORS headers and answer preflights (token, revocation, registration, metadata, JWKS). */
  cors?: boolean;
  /** Rate-limit bucket counted before the handler runs. */
  rateLimit?: string;
  /**
   * A browser page (authorize, callback, consent, login): errors the server
   * catches for it, such as a storage outage, render the HTML error page
   * instead of a JSON body.
   */
  page?: boolean;
}
