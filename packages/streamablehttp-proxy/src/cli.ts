#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { HELP, parseCli } from './cli-options.js';
import { createJsonLogger } from './log.js';
import { serveNode } from './node.js';
import { DEFAULTS } from './options.js';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(
      `mcp-streamablehttp-proxy: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}\n`,
    );
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (parsed === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(pkg.version + '\n');
    return;
  }
  const logger = createJsonLogger(parsed.options.logLevel);
  const served = await serveNode({ ...parsed.options, logger }, { host: parsed.host, port: parsed.port });
  process.on('exit', () => served.bridge.killAllNow());
  logger.info('listening', {
    url: `${served.url}${parsed.options.path ?? DEFAULTS.path}`,
    command: parsed.options.command,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    served.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'fatal', error: String(err) }) +
      '\n',
  );
  process.exit(1);
});
