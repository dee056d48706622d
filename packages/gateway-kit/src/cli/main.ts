import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  configJsonSchema,
  exampleSubject,
  instanceWarnings,
  loadConfig,
  serviceRoutes,
  subjectWarnings,
} from '../config/index.js';
import { federatedRoute } from '../federation/resource.js';
import { VERSION } from '../version.js';
import type { CliFlags, CliIo } from './command.js';
import { CliError } from './errors.js';

export { CliError };
export type { CliFlags, CliIo };

const USAGE = `mcp-gateway: OAuth 2.1 in front of any MCP server

Usage:
  mcp-gateway [--config FILE] [--host H] [--port N]
                                               run the gateway (default: ./mcp-gateway.yaml, else built-in defaults;
                                               the port also from $PORT)
  mcp-gateway init [--config FILE] [--force]   write a commented config, create the store, keys and the admin user
  mcp-gateway config check [--config FILE]     validate the config and list the services
  mcp-gateway config schema [--out FILE]       print (or write) the config's JSON Schema
  mcp-gateway users list|add|passwd|remove NAME [--password P] [--name N]   local users (list shows their ids)
  mcp-gateway clients list|show|delete [CLIENT_ID]                          registered OAuth clients
  mcp-gateway keys rotate                      start signing with a new key (old ones stay published)
  mcp-gateway token --user NAME --service S    print an access token (local users) for scripts and tests
  mcp-gateway -h, --help                       this text
  mcp-gateway -v, --version                    print the version

Every config field can be set from the environment: MCP_GATEWAY__<PATH>, e.g.
  MCP_GATEWAY__LISTEN__PORT=9000  MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS=127.0.0.1
MCP_GATEWAY_CONFIG names the config file.
`;

const stdio: CliIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

/** Runs the CLI; resolves with the exit code (the `run` command resolves once the gateway has stopped). */
export async function main(argv: string[], io: CliIo = stdio): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        password: { type: 'string' },
        name: { type: 'string' },
        user: { type: 'string' },
        service: { type: 'string' },
        scope: { type: 'string' },
        json: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const { help, version, ...flags } = values as CliFlags & { help?: boolean; version?: boolean };
  if (help) {
    io.out(USAGE);
    return 0;
  }
  if (version) {
    io.out(VERSION);
    return 0;
  }
  const [cmd, sub, arg] = positionals;
  try {
    if (cmd === undefined || cmd === 'run' || cmd === 'start') {
      const { run } = await import('./run.js');
      return await run(flags, io);
    }
    if (cmd === 'config' && sub === 'schema') {
      const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
      if (flags.out) writeFileSync(flags.out, text);
      else io.out(text.trimEnd());
      return 0;
    }
    if (cmd === 'config' && sub === 'check') {
      const { config, source, overrides } = loadConfig({ file: flags.config });
      io.out(`config OK (${source})`);
      for (const o of overrides) io.out(`  ${o.variable} → ${o.path.join('.')}`);
      io.out(
        `issuer ${config.issuer}, idp ${config.idp.type}, store ${config.store.type}${config.instanceId ? `, instance ${config.instanceId}` : ''}`,
      );
      const routes = serviceRoutes(config);
      for (const r of routes) io.out(`  ${r.name}: ${r.resource} (scopes ${r.scopes.join(' ')})`);
      for (const f of config.federated) {
        const scopes = [
          ...new Set(routes.filter((r) => f.services.includes(r.name)).flatMap((r) => r.scopes)),
        ];
        const { resource } = federatedRoute(config.issuer, f);
        io.out(
          `  federated ${resource} over ${f.services.join(', ')} (prefix ${f.prefix}; scopes ${scopes.join(' ')})`,
        );
      }
      io.out(
        `admins: ${config.admins.length ? config.admins.join(', ') : `none, the admin API is closed (name one by id: ${exampleSubject(config.idp)})`}`,
      );
      for (const w of [...subjectWarnings(config), ...instanceWarnings(config)]) io.out(`warning: ${w}`);
      return 0;
    }
    if (cmd === 'init') {
      const { init } = await import('./init.js');
      return await init(flags, io);
    }
    if (cmd === 'users' || cmd === 'clients' || cmd === 'keys' || cmd === 'token') {
      const admin = await import('./admin.js');
      return await admin.command(cmd, sub, arg, flags, io);
    }
    io.err(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 1;
    }
    if (err instanceof CliError) {
      io.err(err.message);
      return err.exitCode;
    }
    throw err;
  }
}
