import { realRequest } from '@mcp-gateway/internal/lazy-request';
import { isOwnedHeader } from '../gateway/routes/headers.js';

/**
 * The request a backend that takes a web `Request` gets (a real one, never the edge's lazy
 * request): the request itself when its body is
 * unread (headers the gateway owns removed in place), else a copy carrying `body`, the body
 * admission read (always the copy with `replaced`: `body` is a rewritten body).
 */
export function forwardedRequest(lazy: Request, body: string | undefined, replaced = false): Request {
  const request = realRequest(lazy);
  const owned: string[] = [];
  request.headers.forEach((_v, k) => {
    if (isOwnedHeader(k)) owned.push(k);
  });
  if (!request.bodyUsed && !replaced) {
    for (const k of owned) request.headers.delete(k);
    return request;
  }
  const headers = new Headers(request.headers);
  for (const k of owned) headers.delete(k);
  if (replaced) headers.delete('content-length');
  const init: RequestInit = { method: request.method, headers };
  if (body !== undefined) init.body = body;
  return new Request(request.url, init);
}
