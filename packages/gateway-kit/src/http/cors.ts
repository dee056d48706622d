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
      'access-control-expose-headers': 'Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version, X-Request-Id',
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
        'access-control-allow-headers':
          'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
        'access-control-max-age': '600',
      },
    });
  }
}
