import { corsHeaders, preflight, type CorsOptions } from '@mcp-gateway/oauth-dynamicclient';

/**
 * Request headers a browser MCP client may send: the 2025 session headers and
 * the 2026-07-28 mirrored ones (SEP-2243: `Mcp-Method`, `Mcp-Name`), and
 * the RFC 9449 `DPoP` proof.
 */
const ALLOWED_HEADERS = [
  'Authorization',
  'DPoP',
  'Content-Type',
  'Accept',
  'Mcp-Session-Id',
  'Mcp-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
  'Last-Event-ID',
];

/** Response headers a browser MCP client reads. */
const EXPOSED_HEADERS = [
  'Mcp-Session-Id',
  'WWW-Authenticate',
  'DPoP-Nonce',
  'Mcp-Protocol-Version',
  'X-Request-Id',
];

/**
 * The preflight's `Access-Control-Allow-Headers`: {@link ALLOWED_HEADERS}
 * plus the `Mcp-Param-*` headers (SEP-2243 `x-mcp-header` tool arguments,
 * whose names only the request knows) it asks for.
 */
function allowedHeaders(requested: string | null): string[] {
  const params = (requested ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^mcp-param-[A-Za-z0-9-]{1,64}$/i.test(h));
  return params.length ? [...ALLOWED_HEADERS, ...params] : ALLOWED_HEADERS;
}

/**
 * CORS for the MCP endpoints and resource metadata (browser clients such as
 * the MCP Inspector), through the authorization server's CORS helpers: the
 * configured origins plus the gateway's own, echoed with `Vary: Origin`.
 */
export class Cors {
  constructor(private readonly origins: string[]) {}

  /** True when `origin` may call us from a browser (or when it is our own origin). */
  allows(origin: string, ownOrigin: string): boolean {
    return origin === ownOrigin || this.origins.includes('*') || this.origins.includes(origin);
  }

  private options(ownOrigin: string): CorsOptions {
    return {
      origins: (origin) => this.allows(origin, ownOrigin),
      allowHeaders: allowedHeaders,
      exposeHeaders: EXPOSED_HEADERS,
      refuseDisallowed: true,
    };
  }

  /** Headers to add to a response for a request from `origin`. */
  headers(origin: string | null, ownOrigin: string): Record<string, string> {
    return origin ? corsHeaders(origin, this.options(ownOrigin)) : {};
  }

  /** The answer to a preflight `OPTIONS` (403 for an origin that may not call us). */
  preflight(request: Request, ownOrigin: string): Response {
    return preflight(request, ['GET', 'POST', 'DELETE'], this.options(ownOrigin));
  }
}
