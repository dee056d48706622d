#!/usr/bin/env node
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { toNodeListener } from './adapters/node.js';
import { CliUsageError, parseCli, usage } from './cli-args.js';
import { createFetchCore } from './core.js';
import { jsonLogger } from './log.js';
import { createModernMcpServer } from './protocol/modern.js';
import { createFetchServer } from './server.js';
import { VERSION } from './version.js';

/** Prints a usage error and exits with status 2 (bad flags, env values or options). */
function usageError(err: Error): never {
  process.stderr.write(`mcp-fetch-server: ${err.message}\n\n${usage()}`);
  process.exit(2);
}

function isUsageError(err: unknown): err is Error {
  return err instanceof CliUsageError || err instanceof TypeError;
}

async function main(): Promise<void> {
  let config;
  try {
    config = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (isUsageError(err)) usageError(err);
    throw err;
  }
  if (config.help) {
    process.stdout.write(usage());
    return;
  }
  if (config.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const logger = jsonLogger();
  const options = { ...config.options, logger };

  if (config.stdio) {
    let core;
    try {
      core = createFetchCore(options);
    } catch (err) {
      if (isUsageError(err)) usageError(err);
      throw err;
    }
    // Both eras on stdio: the opening message picks one (a server/discover probe or a request with
    // the _meta envelope: 2026-07-28; initialize: 2025) and pins one server for the connection.
    const served = serveStdio(() => createModernMcpServer(core), {
      onerror: (error) => logger.info('mcp request refused', { error: error.message }),
    });
    logger.info('stdio ready', { version: VERSION });
    const stop = () =>
      void served
        .close()
        .finally(() => core.close())
        .finally(() => process.exit(0));
    process.stdin.once('end', stop);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }

  // When listening beyond loopback, the Host check must know the public name:
  // without --accept-host the default stays loopback names only.
  let handler;
  try {
    handler = createFetchServer(options);
  } catch (err) {
    if (isUsageError(err)) usageError(err);
    throw err;
  }
  const server = http.createServer(toNodeListener(handler));
  server.requestTimeout = 0; // SSE streams may be long-lived; fetches have their own timeouts.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const path = config.options.path ?? '/mcp';
  logger.info('listening', { url: `http://${host}:${port}${path}`, version: VERSION });
  const stop = () => {
    logger.info('shutting down');
    void handler.close().finally(() => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`mcp-fetch-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
