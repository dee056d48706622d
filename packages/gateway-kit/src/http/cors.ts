/**
 * Request headers a browser MCP client may send: the 2025 session headers and
 * the 2026-07-28 mirrored ones (SEP-2243: `Mcp-Method`, `Mcp-Name`), and
 * the RFC 9449 `DPoP` proof.
 */
const ALLOWED_HEADERS =
  'Authorization, DPoP, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';

/**
 * The preflight's `Access-Control-Allow-Headers`: {@link ALLOWED_HEADERS}
 * plus the `Mcp-Param-*` headers (SEP-2243 `x-mcp-header` tool arguments,
 * whose names only the request knows) it asks for.
 */
function allowedHeaders(requested: string | null): string {
  const params = (requested ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^mcp-param-[A-Za-z0-9-]{1,64}$/i.test(h));
  return params.length ? `${ALLOWED_HEADERS}, ${params.join(', ')}` : ALLOWED_HEADERS;
}

/** CORS for the MCP endpoints and resource metadata (browser clients such as the MCP Inspector). */
export class Cors {
  constructor(private readonly origins: string[]) {}

  /** True when `origin` may call us from a browser (or when it is our own origin). */
  allows(origin: string, ownOrigin: string): boolean {
    return origin === ownOrigin || this.origins.includes('*') || this.origins.includes(origin);
  }

  /** Headers to add to a response for a request from `origin`. */
  headers(origin: string | null, ownOrigin: string): Record<string, string> {
    if (!origin || !this.allows(origin, ownOrigin)) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers':
        'Mcp-Session-Id, WWW-Authenticate, DPoP-Nonce, Mcp-Protocol-Version, X-Request-Id',
      vary: 'Origin',
    };
  }

  /** The answer to a preflight `OPTIONS`. */
  preflight(request: Request, ownOrigin: string): Response {
    const origin = request.headers.get('origin');
    if (!origin || !this.allows(origin, ownOrigin)) return new Response(null, { status: 403 });
    return new Response(null, {
      status: 204,
      headers: {
        ...this.headers(origin, ownOrigin),
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': allowedHeaders(request.headers.get('access-control-request-headers')),
        'access-control-max-age': '600',
      },
    });
  }
}
