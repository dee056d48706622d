/** CORS for browser-based MCP clients (metadata, registration, token, revocation, JWKS). */

export interface CorsOptions {
  /** `'*'` (default), a list of exact origins, or a predicate. */
  origins?: '*' | string[] | ((origin: string) => boolean);
  /** Request headers browsers may send. */
  allowHeaders?: string[];
  /** Preflight cache lifetime in seconds. */
  maxAgeSeconds?: number;
}

const defaultAllowHeaders = ['authorization', 'content-type', 'mcp-protocol-version', 'accept', 'dpop'];

function allowedOrigin(origin: string | null, opts: CorsOptions): string | undefined {
  if (!origin) return undefined;
  const o = opts.origins ?? '*';
  if (o === '*') return '*';
  if (typeof o === 'function') return o(origin) ? origin : undefined;
  return o.includes(origin) ? origin : undefined;
}

/** Adds CORS response headers (and exposes `WWW-Authenticate`) when the origin is allowed. */
export function withCors(request: Request, response: Response, opts: CorsOptions): Response {
  const origin = allowedOrigin(request.headers.get('origin'), opts);
  if (!origin) return response;
  const headers = new Headers(response.headers);
  headers.set('access-control-allow-origin', origin);
  headers.set('access-control-expose-headers', 'www-authenticate, retry-after, dpop-nonce');
  if (origin !== '*') headers.append('vary', 'Origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Answers a CORS preflight (`OPTIONS`) for an endpoint that accepts `methods`. */
export function preflight(request: Request, methods: string[], opts: CorsOptions): Response {
  const origin = allowedOrigin(request.headers.get('origin'), opts);
  const headers = new Headers({ 'cache-control': 'no-store' });
  if (origin) {
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-allow-methods', [...methods, 'OPTIONS'].join(', '));
    headers.set('access-control-allow-headers', (opts.allowHeaders ?? defaultAllowHeaders).join(', '));
    headers.set('access-control-max-age', String(opts.maxAgeSeconds ?? 600));
    if (origin !== '*') headers.set('vary', 'Origin');
  }
  return new Response(null, { status: 204, headers });
}
