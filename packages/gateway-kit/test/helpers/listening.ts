import { afterAll } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import type { GatewayConfigInput } from '../../src/config/schema.js';
import { createGateway, type CreateGatewayOptions, type Gateway } from '../../src/gateway/create.js';
import { createLogger } from '../../src/ops/logger.js';

const gateways: Gateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close(0)));
});

/** Path of the bundled stdio demo server (echo, add, whoami, time, crash). */
export function demoPath(): string {
  const { config } = resolveConfig({}, { env: {} });
  return (config.services.demo as { args: string[] }).args[0]!;
}

/**
 * A gateway listening on 127.0.0.1 (ephemeral port) with a memory store and
 * the stdio demo service at `/demo/mcp`; `input` and `env` override the
 * config, `options` the gateway's (silent logs, no process metrics and a
 * cheap password hash by default). Closed after the file's tests.
 */
export async function listeningGateway(
  input: GatewayConfigInput = {},
  env: NodeJS.ProcessEnv = {},
  options: CreateGatewayOptions = {},
): Promise<{ gw: Gateway; url: string; port: number }> {
  const { config } = resolveConfig(
    {
      issuer: 'http://127.0.0.1:8080',
      listen: { host: '127.0.0.1', port: 0 },
      store: { type: 'memory' },
      services: { demo: { type: 'stdio', command: process.execPath, args: [demoPath()] } },
      ...input,
    },
    { env },
  );
  const gw = await createGateway(config, {
    logger: createLogger('silent'),
    processMetrics: false,
    passwordCost: { N: 1024, r: 8, p: 1 },
    ...options,
  });
  gateways.push(gw);
  const url = await gw.listen();
  return { gw, url, port: Number(new URL(url).port) };
}
