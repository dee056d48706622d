import { afterAll } from 'vitest';
import { resolveConfig } from '../src/config/load.js';
import type { GatewayConfigInput } from '../src/config/schema.js';
import { createGateway, type CreateGatewayOptions, type Gateway } from '../src/gateway/create.js';
import { createLogger } from '../src/ops/logger.js';

/** The issuer of in-process test gateways (never listened on: tests call `gateway.fetch`). */
export const ISSUER = 'http://127.0.0.1:8080';

/**
 * For one test file: a list of cleanups run after all its tests, and a
 * factory of in-process gateways on a memory store (closed by those cleanups).
 */
export function testGateways() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  async function gateway(input: GatewayConfigInput, opts: CreateGatewayOptions = {}): Promise<Gateway> {
    const { config } = resolveConfig({ issuer: ISSUER, store: { type: 'memory' }, ...input }, { env: {} });
    const gw = await createGateway(config, {
      logger: createLogger('silent'),
      processMetrics: false,
      // Fast hashes for tests; the default cost is tested once in users.test.ts.
      passwordCost: { N: 1024, r: 8, p: 1 },
      ...opts,
    });
    cleanups.push(() => gw.close(0));
    return gw;
  }
  return { cleanups, gateway };
}

/** The JSON-RPC message of a JSON or SSE answer (the last `data:` line of a stream). */
export async function rpcResult(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  const data = res.headers.get('content-type')?.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .filter(Boolean)
        .pop()!
    : text;
  return JSON.parse(data) as Record<string, unknown>;
}

/**
 * The parsed `WWW-Authenticate` challenges (testkit's `parseWwwAuthenticate`)
 * of a service asked without a token while DPoP is on (the default):
 * RFC 9449 §7.1, both schemes, Bearer first, with the same RFC 9728 parameters.
 */
export function serviceChallenges(service: string, issuer = ISSUER) {
  const params = {
    resource_metadata: `${issuer}/.well-known/oauth-protected-resource/${service}/mcp`,
    scope: `mcp:${service}`,
  };
  return [
    { scheme: 'Bearer', params },
    { scheme: 'DPoP', params: { algs: 'ES256 ES384 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA', ...params } },
  ];
}
