import { createHash, timingSafeEqual } from 'node:crypto';
import { jsonError } from '../errors.js';
import type { GatewayMetrics } from './metrics.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics`: the Prometheus exposition, behind `Authorization: Bearer
 * <token>` when a token is configured (`metrics.token`). The token is compared
 * in constant time (SHA-256 of both sides, so neither its length nor its
 * prefix leaks); a missing or wrong one gets 401 with a Bearer challenge.
 */
export function metricsEndpoint(
  metrics: GatewayMetrics,
  token: string | undefined,
): (request: Request) => Promise<Response> {
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    if (expected) {
      const m = /^Bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '');
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        return jsonError(401, 'invalid_token', 'a valid metrics token is required', {
          'www-authenticate': 'Bearer realm="metrics"',
        });
      }
    }
    return metrics.render();
  };
}

/** The handler of the separate metrics listener (`metrics.listen`): `/metrics` and nothing else. */
export function metricsListener(
  metrics: GatewayMetrics,
  token: string | undefined,
): (request: Request) => Promise<Response> {
  const endpoint = metricsEndpoint(metrics, token);
  return async (request) =>
    new URL(request.url).pathname === '/metrics'
      ? endpoint(request)
      : jsonError(404, 'not_found', 'this listener serves /metrics only');
}
