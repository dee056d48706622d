/** CORS for browser-based MCP clients (metadata, registration, token, revocation, JWKS, MCP endpoints). */

export interface CorsOptions {
  /** `'*'` (default), a list of exact origins, or a predicate. */
  origins?: '*' | string[] | ((origin: string) => boolean);
  /**
   * Request headers browsers may send: a list, or a function of the
   * preflight's `Access-Control-Request-Headers` (for header names only the
   * request knows, such as MCP's `Mcp-Param-*`).
   */
  allowHeaders?: string[] | ((requested: string | null) => string[]);
  /** Preflight cache lifetime in seconds. */
  maxAgeSeconds?: number;
  /** Response headers browsers may read (default `www-authenticate, retry-after, dpop-nonce`). */
  exposeHeaders?: string[];
  /** Answer with the request's `Origin` (and `Vary: Origin`) even when every origin is allowed. */
  echoOrigin?: boolean;
  /** Refuse a preflight from an origin that is not allowed with 403 (default: 204 without CORS headers). */
  refuseDisallowed?: boolean;
}

const defaultAllowHeaders = ['authorization', 'content-type', 'mcp-protocol-version', 'accept', 'dpop'];
const defaultExposeHeaders = 'www-authenticate, retry-after, dpop-nonce';

function allowedOrigin(origin: string | null, opts: CorsOptions): string | undefined {
  if (!origin) return undefined;
  const o = opts.origins ?? '*';
  if (o === '*') return opts.echoOrigin ? origin : '*';
  if (typeof o === 'function') return o(origin) ? origin : undefined;
  return o.includes(origin) ? origin : undefined;
}

/**
 * The CORS response headers for a request from `origin` (`Access-Control-Allow-Origin`,
 * `-Expose-Headers`, `Vary: Origin` unless the answer is `*`); `{}` when the origin is not allowed.
 */
export function corsHeaders(origin: string | null, opts: CorsOptions): Record<string, string> {
  const allowed = allowedOrigin(origin, opts);
  if (!allowed) return {};
  return {
    'access-control-allow-origin': allowed,
    'access-control-expose-headers': opts.exposeHeaders?.join(', ') ?? defaultExposeHeaders,
    ...(allowed !== '*' ? { vary: 'Origin' } : {}),
  };
}

/** Adds CORS response headers (and exposes `WWW-Authenticate`) when the origin is allowed. */
export function withCors(request: Request, response: Response, opts: CorsOptions): Response {
  const add = corsHeaders(request.headers.get('origin'), opts);
  if (!add['access-control-allow-origin']) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(add)) {
    if (name === 'vary') headers.append(name, value);
    else headers.set(name, value);
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Answers a CORS preflight (`OPTIONS`) for an endpoint that accepts `methods`. */
export function preflight(request: Request, methods: string[], opts: CorsOptions): Response {
  const origin = allowedOrigin(request.headers.get('origin'), opts);
  if (!origin && opts.refuseDisallowed) return new Response(null, { status: 403 });
  const headers = new Headers({ 'cache-control': 'no-store' });
  if (origin) {
    const allowHeaders =
      typeof opts.allowHeaders === 'function'
        ? opts.allowHeaders(request.headers.get('access-control-request-headers'))
        : (opts.allowHeaders ?? defaultAllowHeaders);
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-allow-methods', [...methods, 'OPTIONS'].join(', '));
    headers.set('access-control-allow-headers', allowHeaders.join(', '));
    headers.set('access-control-max-age', String(opts.maxAgeSeconds ?? 600));
    if (origin !== '*') headers.set('vary', 'Origin');
    if (opts.exposeHeaders) headers.set('access-control-expose-headers', opts.exposeHeaders.join(', '));
  }
  return new Response(null, { status: 204, headers });
}
