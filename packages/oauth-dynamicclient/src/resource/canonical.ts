/**
 * RFC 8707 resource indicators in canonical form (as the MCP authorization
 * spec asks): scheme and host lower-case, default port dropped, no query or
 * fragment, and no trailing slash, so `HTTPS://MCP.example.com/mcp/` and
 * `https://mcp.example.com/mcp` name the same resource.
 */
export function canonicalResource(value: string): string | undefined {
  if (value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  // A bare `?` or `#` parses to an empty search/hash; reject those too.
  if (url.search || url.hash || value.includes('?') || value.includes('#')) return undefined;
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}
