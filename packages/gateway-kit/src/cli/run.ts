import { loadConfig, serviceRoutes } from '../config/index.js';
import { createGateway } from '../gateway/create.js';
import { VERSION } from '../version.js';
import type { CliFlags, CliIo } from './main.js';

/** `mcp-gateway [--config F]`: serves until SIGINT/SIGTERM, then drains and ends every child. */
export async function run(flags: CliFlags, io: CliIo): Promise<number> {
  const { config, source } = loadConfig({ file: flags.config });
  const gateway = await createGateway(config);
  const url = await gateway.listen();
  const issuer = config.issuer.replace(/\/+$/, '');
  const lines = [
    `mcp-gateway ${VERSION} listening on ${url} (config: ${source})`,
    `  issuer:         ${issuer}`,
    `  store:          ${config.store.type}${config.store.type === 'file' || config.store.type === 'embedded' ? ` (${config.dataDir})` : ''}`,
    `  sign-in:        ${config.idp.type}`,
  ];
  if (gateway.initialAdminPassword) {
    lines.push(
      '',
      `  First start: local user "admin" created with password: ${gateway.initialAdminPassword}`,
      '  It is shown only this once (only its hash is stored). Change it: mcp-gateway users passwd admin',
    );
  }
  lines.push('', '  services:');
  const routes = serviceRoutes({
    issuer: config.issuer,
    services: Object.fromEntries(gateway.services.list().map((e) => [e.name, e.config])),
  });
  for (const r of routes) lines.push(`    ${r.name.padEnd(14)} ${r.resource}  (scope ${r.scopes.join(' ')})`);
  if (routes[0]) {
    lines.push('', '  connect:', `    npx mcp-streamablehttp-client --url ${routes[0].resource} --oauth2`);
  }
  lines.push(
    '',
    `  connected apps: ${issuer}/account    health: ${issuer}/healthz    services: ${issuer}/servers`,
    '',
  );
  io.err(lines.join('\n'));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      gateway.logger.info({ signal }, 'shutting down: draining requests and ending child processes');
      gateway
        .close(10_000)
        .then(() => resolve(0))
        .catch((err: unknown) => {
          gateway.logger.error({ err: (err as Error).message }, 'shutdown failed');
          resolve(1);
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
