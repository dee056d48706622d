import { addLazyHeaders } from '@mcp-gateway/internal/lazy-response';
/** Request headers the gateway owns (with `x-mcp-gateway-*`): a client can never set them for a backend. */
const OWNED_HEADERS = new Set([
  'authorization',
  // RFC 9449 proofs are for the gateway: no token or proof passes through to a backend.
  'dpop',
  'cookie',
  'origin',
  'x-user-id',
  'x-user-name',
  'x-client-id',
  'x-scopes',
]);

/** True for a (lower-case) header name the gateway owns. */
export const isOwnedHeader = (name: string): boolean =>
  OWNED_HEADERS.has(name) || name.startsWith('x-mcp-gateway-');

/**
 * Adds headers to a response. A lazy response takes them into its header
 * record (no `Headers` object is built: every request gets `x-request-id`);
 * other responses we built are mutable and set in place; only an immutable
 * one (from `fetch`) is re-wrapped, which costs far more (a new body stream)
 * and so stays off the hot path.
 */
export const withHeaders = (res: Response, headers: Record<string, string>): Response => {
  const entries = Object.entries(headers);
  if (entries.length === 0 || addLazyHeaders(res, headers)) return res;
  try {
    for (const [k, v] of entries) res.headers.set(k, v);
    return res;
  } catch {
    const out = new Response(res.body, res);
    for (const [k, v] of entries) out.headers.set(k, v);
    return out;
  }
};
