/** JSON responses with the caching rules OAuth asks for. */

import { bodyResponse } from './known-body.js';

/**
 * JSON with `Cache-Control: no-store` and `Pragma: no-cache`: for every
 * response that carries credentials (RFC 6749 §5.1, RFC 7591 §3.2.1).
 */
export function noStoreJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return bodyResponse(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
  });
}

/** Public JSON (metadata documents) that caches may keep for `maxAgeSeconds`. */
export function publicJson(
  body: unknown,
  maxAgeSeconds = 300,
  headers: Record<string, string> = {},
): Response {
  return bodyResponse(JSON.stringify(body), {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': `public, max-age=${maxAgeSeconds}`,
      ...headers,
    },
  });
}

/** An empty response (e.g. 204 after RFC 7592 DELETE). */
export function empty(status = 204, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { 'cache-control': 'no-store', ...headers } });
}
