import { loadConfig, serviceRoutes } from '../config/index.js';
import type { GatewayConfig } from '../config/schema.js';
import { claudeDesktopEntry, loginCommand } from '../gateway/connect-hints.js';
import { createGateway, type Gateway } from '../gateway/create.js';
import { StoreInUseError } from '../store/store-socket-server.js';
import { createLogger, createPrettyLogger, resolveLogFormat } from '../ops/logger.js';
import { VERSION } from '../version.js';
import { CliError } from './errors.js';
import type { CliFlags, CliIo } from './command.js';

/** How to run a command of the gateway's own CLI (scoped name: works in this checkout and installed). */
const GATEWAY_CMD = 'npx -y @mcp-gateway/gateway-kit';

/**
 * The environment a start reads, with `--host`/`--port` and `PORT` applied:
 * flags first, then `MCP_GATEWAY__LISTEN__*`, then `PORT` (as hosting
 * platforms set it), then the config file.
 */
export function listenEnv(flags: CliFlags, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  if (out.MCP_GATEWAY__LISTEN__PORT === undefined && env.PORT) out.MCP_GATEWAY__LISTEN__PORT = env.PORT;
  if (flags.port !== undefined) out.MCP_GATEWAY__LISTEN__PORT = flags.port;
  if (flags.host !== undefined) out.MCP_GATEWAY__LISTEN__HOST = flags.host;
  return out;
}

/** `mcp-gateway [--config F] [--host H] [--port N]`: serves until SIGINT/SIGTERM, then drains and ends every child. */
export async function run(flags: CliFlags, io: CliIo): Promise<number> {
  const { config, source } = loadConfig({ file: flags.config, env: listenEnv(flags, process.env) });
  const pretty = resolveLogFormat(config.logging.format) === 'pretty';
  const logger = pretty ? createPrettyLogger(config.logging.level) : createLogger(config.logging.level);
  // The admin user is created only once the port is ours: a start that cannot bind creates nobody.
  const gateway = await createGateway(config, {
    logger,
    bootstrapAdmin: false,
    accessLogLevel: pretty ? 'debug' : 'info',
  }).catch((err: unknown) => {
    throw err instanceof StoreInUseError ? new CliError(`cannot start: ${err.message}.`) : err;
  });
  let url: string;
  try {
    url = await gateway.listen();
  } catch (err) {
    await gateway.close(0).catch(() => undefined);
    throw listenError(err, config);
  }
  const password = await gateway.bootstrapAdmin();
  io.err(banner(gateway, config, url, source, password));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      gateway.logger.info('shutting down: draining requests and ending child processes', { signal });
      gateway
        .close(10_000)
        .then(() => resolve(0))
        .catch((err: unknown) => {
          gateway.logger.error('shutdown failed', { err: (err as Error).message });
          resolve(1);
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** One line a person can act on, for the errors a listener meets on start. */
function listenError(err: unknown, config: GatewayConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${config.listen.host}:${config.listen.port}`;
  if (code === 'EADDRINUSE') {
    return new CliError(
      `cannot listen on ${where}: the port is in use. Pick another with --port N (or PORT=N, MCP_GATEWAY__LISTEN__PORT=N, listen.port in the config).`,
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new CliError(
      `cannot listen on ${where} (${code}). Pick another address with --host H / --port N (or listen.host / listen.port in the config).`,
    );
  }
  return err;
}

/** What a person needs after a start: where things are, the first command to run, the admin password once. */
function banner(
  gateway: Gateway,
  config: GatewayConfig,
  url: string,
  source: string,
  password: string | undefined,
): string {
  const issuer = config.issuer.replace(/\/+$/, '');
  const lines = [
    '',
    `mcp-gateway ${VERSION} listening on ${url} (config: ${source})`,
    `  issuer:         ${issuer}`,
    `  store:          ${config.store.type}${config.store.type === 'file' || config.store.type === 'embedded' ? ` (${config.dataDir})` : ''}`,
    `  sign-in:        ${config.idp.type}`,
  ];
  if (gateway.metricsUrl) lines.push(`  metrics:        ${gateway.metricsUrl}/metrics`);
  if (password) {
    lines.push(
      '',
      `  First start: local user "admin" (id local:admin) created with password: ${password}`,
      `  It is shown only this once (only its hash is stored). Change it: ${GATEWAY_CMD} users passwd admin`,
    );
  } else if (config.idp.type === 'local') {
    lines.push(`  lost a password? ${GATEWAY_CMD} users passwd admin   (sets a new one)`);
  }
  lines.push('', '  services:');
  const routes = serviceRoutes({
    issuer: config.issuer,
    services: Object.fromEntries(gateway.services.list().map((e) => [e.name, e.config])),
  });
  for (const r of routes) lines.push(`    ${r.name.padEnd(14)} ${r.resource}  (scope ${r.scopes.join(' ')})`);
  if (routes[0]) {
    const entry = JSON.stringify(claudeDesktopEntry(routes[0].name, routes[0].resource), null, 2);
    lines.push(
      '',
      '  connect, first sign in (opens your browser once):',
      `    ${loginCommand(routes[0].resource)}`,
      '  then add to Claude Desktop (claude_desktop_config.json):',
      ...entry.split('\n').map((l) => `    ${l}`),
    );
  }
  lines.push(
    '',
    `  start here: ${issuer}/    connected apps: ${issuer}/account    health: ${issuer}/healthz`,
    '',
  );
  return lines.join('\n');
}
