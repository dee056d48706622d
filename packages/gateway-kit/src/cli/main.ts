import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, configJsonSchema, loadConfig, serviceRoutes } from '../config/index.js';

const USAGE = `mcp-gateway: OAuth 2.1 in front of any MCP server

Usage:
  mcp-gateway [--config FILE]            run the gateway
  mcp-gateway config check [--config F]  validate the config and print the services
  mcp-gateway config schema [--out F]    print (or write) the config's JSON Schema
  mcp-gateway --help
`;

/** Output sinks, injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: CliIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

/** Runs the CLI; resolves with the exit code. */
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
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const [cmd, sub] = positionals;
  try {
    if (cmd === 'config' && sub === 'schema') {
      const text = JSON.stringify(configJsonSchema(), null, 2) + '\n';
      if (values.out) writeFileSync(values.out, text);
      else io.out(text.trimEnd());
      return 0;
    }
    if (cmd === 'config' && sub === 'check') {
      const { config, source, overrides } = loadConfig({ file: values.config });
      io.out(`config OK (${source})`);
      for (const o of overrides) io.out(`  ${o.variable} → ${o.path.join('.')}`);
      io.out(`issuer ${config.issuer}, idp ${config.idp.type}, store ${config.store.type}`);
      for (const r of serviceRoutes(config))
        io.out(`  ${r.name}: ${r.resource} (scopes ${r.scopes.join(' ')})`);
      return 0;
    }
    io.err(`unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}
