import { isStoreUnavailable, OAuthError } from '@mcp-gateway/oauth-dynamicclient';
import type { RequestInfo } from '../http/node.js';
import type { Logger } from '../ops/logger.js';

/** A page the gateway serves itself (see `GatewayHandlerDeps.pages`); `info` is the edge's socket facts. */
export type GatewayPage = (request: Request, log: Logger, info: RequestInfo) => Promise<Response>;

/**
 * Puts every page behind `consume`, the authorization server's per-source
 * rate limiter: over the limit a page answers `429` with `Retry-After`
 * before it runs (so before it reads or writes anything), a store outage
 * `503`. Plain text: the answer is for a person at a browser or a script.
 */
export function rateLimitedPages(
  pages: Record<string, GatewayPage>,
  consume: (request: Request, info: RequestInfo) => Promise<void>,
): Record<string, GatewayPage> {
  const refusal = (status: number, text: string, headers: Record<string, string>) =>
    new Response(`${text}\n`, {
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
    });
  const limited =
    (page: GatewayPage): GatewayPage =>
    async (request, log, info) => {
      try {
        await consume(request, info);
      } catch (err) {
        if (err instanceof OAuthError && err.status === 429)
          return refusal(429, 'Too many requests: try again later.', err.headers);
        if (err instanceof OAuthError || isStoreUnavailable(err))
          return refusal(503, 'Temporarily unavailable: try again in a moment.', { 'retry-after': '5' });
        throw err;
      }
      return page(request, log, info);
    };
  return Object.fromEntries(Object.entries(pages).map(([path, page]) => [path, limited(page)]));
}
