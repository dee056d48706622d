/** What every CLI command gets: the flags, the streams, the server URL, a logger, and one way to print. */
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { readEnv } from '../env.js';
import type { Logger } from '../log.js';
import { CLI_ENV, type CliFlags } from './args.js';

/** Where the CLI reads and writes; injectable for tests. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** The package version (`0.0.0` when unknown). */
export function version(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** One CLI run. */
export interface Context {
  flags: CliFlags;
  io: CliIo;
  url: URL;
  log: Logger;
  headers: Record<string, string>;
  out(human: string, json: unknown): void;
}

/** `--url` (or `--server-url`, a positional, `MCP_CLIENT_URL`): an http(s) URL. */
export function resolveUrl(flags: CliFlags, env: NodeJS.ProcessEnv, positional?: string): URL {
  const raw = flags.url ?? flags['server-url'] ?? positional ?? readEnv(env, CLI_ENV.url);
  if (!raw) throw new UsageError('no server URL: pass --url URL (or set MCP_CLIENT_URL)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be http(s), got ${url.protocol}`);
  return url;
}
