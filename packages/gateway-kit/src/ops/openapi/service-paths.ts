import { jsonOf, oauthError } from './schemas.js';

type PathItem = Record<string, unknown> & { servers?: { url: string }[] };
type Operation = { security?: unknown[] };

const protectedResourceMetadata = (summary: string) => ({
  get: {
    summary,
    responses: { 200: { description: 'metadata', content: jsonOf('ProtectedResourceMetadata') } },
  },
});

/** The MCP Streamable HTTP endpoint of one service. */
/** An MCP endpoint to describe: a service, or a federated endpoint (`type: federated`). */
export interface McpListing {
  name: string;
  config: { type: string };
  route: { resource: string; metadataUrl: string; scopes: string[] };
}

function mcpEndpoint(e: McpListing): PathItem {
  const security = [{ oauth2: e.route.scopes }];
  const mcpErrors = {
    401: oauthError('no or bad token; WWW-Authenticate names resource_metadata (RFC 9728)'),
    403: oauthError('insufficient scope or user not allowed'),
  };
  return {
    summary: `MCP Streamable HTTP endpoint of "${e.name}" (${e.config.type})`,
    post: {
      summary: 'JSON-RPC request, notification or response',
      security,
      requestBody: { required: true, content: jsonOf('JsonRpcMessage') },
      responses: {
        200: {
          description: 'JSON-RPC answer, as JSON or an SSE stream',
          content: { ...jsonOf('JsonRpcMessage'), 'text/event-stream': { schema: { type: 'string' } } },
        },
        202: { description: 'accepted (notification or response)' },
        ...mcpErrors,
        404: oauthError('unknown or ended session (Mcp-Session-Id)'),
        429: oauthError('too many sessions for this user; Retry-After'),
        502: { description: 'backend unavailable: JSON-RPC error -32000', content: jsonOf('JsonRpcMessage') },
      },
    },
    get: {
      summary: 'SSE stream for server messages',
      security,
      responses: {
        200: {
          description: 'event stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...mcpErrors,
        405: { description: 'the backend offers no standalone stream' },
      },
    },
    delete: {
      summary: 'End the session',
      security,
      responses: { 200: { description: 'ended' }, ...mcpErrors, 405: { description: 'not supported' } },
    },
  };
}

/**
 * Adds `item` at `url`: under its path when on the issuer's origin, else as a
 * path item with its own `servers` (host-routed services share `/mcp`, so
 * their items merge: one server each and every service's security alternative).
 */
function place(paths: Record<string, PathItem>, origin: string, url: string, item: PathItem): void {
  const u = new URL(url);
  if (u.origin === origin) {
    paths[u.pathname] = item;
    return;
  }
  const existing = paths[u.pathname];
  if (!existing?.servers) {
    paths[u.pathname] = { ...item, servers: [{ url: u.origin }] };
    return;
  }
  if (!existing.servers.some((s) => s.url === u.origin)) existing.servers.push({ url: u.origin });
  existing.summary = 'Endpoint of host-routed services (one server each)';
  for (const [method, op] of Object.entries(item)) {
    const had = existing[method] as Operation | undefined;
    const add = (op as Operation).security;
    if (had?.security && add) had.security = [...had.security, ...add];
  }
}

/** The MCP endpoints and RFC 9728 metadata documents of `services` and of the admin API. */
export function servicePaths(
  issuer: string,
  services: McpListing[],
  adminResource: string,
): Record<string, unknown> {
  const origin = new URL(issuer).origin;
  const paths: Record<string, PathItem> = {
    [`/.well-known/oauth-protected-resource${new URL(adminResource).pathname}`]: protectedResourceMetadata(
      'RFC 9728 protected-resource metadata of the admin API',
    ),
  };
  for (const e of services) {
    place(paths, origin, e.route.resource, mcpEndpoint(e));
    place(
      paths,
      origin,
      e.route.metadataUrl,
      protectedResourceMetadata(`RFC 9728 protected-resource metadata of "${e.name}"`),
    );
  }
  return paths;
}
