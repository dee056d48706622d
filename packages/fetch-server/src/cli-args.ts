import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { FetchServerOptions } from './options.js';

/** The prefix of every environment variable the CLI reads (it reads no unprefixed names). */
export const ENV_PREFIX = 'MCP_FETCH_';

/** One CLI flag with its environment fallback, as documented in the README. */
export interface FlagSpec {
  flag: string;
  /** `MCP_FETCH_<NAME>`, or `''` for flags without one (`--help`, `--version`). */
  env: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** One-letter alias, e.g. `h` for `-h`. */
  short?: string;
  description: string;
}

/** Every flag the CLI accepts. The README table mirrors this list (a test checks it). */
export const CLI_FLAGS: FlagSpec[] = [
  {
    flag: 'host',
    env: 'MCP_FETCH_HOST',
    type: 'string',
    description: 'Interface to listen on (default 127.0.0.1).',
  },
  {
    flag: 'port',
    env: 'MCP_FETCH_PORT',
    type: 'string',
    description: 'Port to listen on (default 3000; 0 picks a free one).',
  },
  { flag: 'path', env: 'MCP_FETCH_PATH', type: 'string', description: 'MCP endpoint path (default /mcp).' },
  {
    flag: 'stdio',
    env: 'MCP_FETCH_STDIO',
    type: 'boolean',
    description: 'Speak MCP over stdin/stdout instead of HTTP.',
  },
  {
    flag: 'stateful',
    env: 'MCP_FETCH_STATEFUL',
    type: 'boolean',
    description: 'Keep 2025-era MCP sessions (Mcp-Session-Id); 2026-07-28 requests stay stateless.',
  },
  {
    flag: 'user-agent',
    env: 'MCP_FETCH_USER_AGENT',
    type: 'string',
    description: 'User-Agent for every request, robots.txt included.',
  },
  {
    flag: 'ignore-robots-txt',
    env: 'MCP_FETCH_IGNORE_ROBOTS_TXT',
    type: 'boolean',
    description: 'Do not check robots.txt.',
  },
  {
    flag: 'allow-host',
    env: 'MCP_FETCH_ALLOW_HOSTS',
    type: 'string',
    multiple: true,
    description: 'SSRF exception: host name, *.suffix, IP or CIDR (repeatable; env: comma-separated).',
  },
  {
    flag: 'max-size',
    env: 'MCP_FETCH_MAX_SIZE',
    type: 'string',
    description: 'Response body cap in bytes (default 10485760).',
  },
  {
    flag: 'timeout',
    env: 'MCP_FETCH_TIMEOUT',
    type: 'string',
    description: 'Total time per fetch in ms, redirects included (default 30000).',
  },
  {
    flag: 'connect-timeout',
    env: 'MCP_FETCH_CONNECT_TIMEOUT',
    type: 'string',
    description: 'TCP+TLS handshake time in ms (default 10000).',
  },
  {
    flag: 'max-concurrent-fetches',
    env: 'MCP_FETCH_MAX_CONCURRENT_FETCHES',
    type: 'string',
    description: 'Outgoing fetches in flight at most, all callers together; more are refused (default 64).',
  },
  {
    flag: 'max-concurrent-fetches-per-caller',
    env: 'MCP_FETCH_MAX_CONCURRENT_FETCHES_PER_CALLER',
    type: 'string',
    description:
      'Outgoing fetches in flight at most per caller (session or request); more are refused (default 4).',
  },
  {
    flag: 'conversion-timeout',
    env: 'MCP_FETCH_CONVERSION_TIMEOUT',
    type: 'string',
    description: 'Time one HTML page may take to convert to Markdown, in ms (default 10000).',
  },
  {
    flag: 'conversion-workers',
    env: 'MCP_FETCH_CONVERSION_WORKERS',
    type: 'string',
    description: 'Worker threads converting HTML at most (default 2, or 1 on one CPU).',
  },
  {
    flag: 'proxy',
    env: 'MCP_FETCH_PROXY',
    type: 'string',
    description: 'HTTP proxy URL; requests are CONNECT-tunnelled to the checked IP.',
  },
  {
    flag: 'accept-host',
    env: 'MCP_FETCH_ACCEPT_HOSTS',
    type: 'string',
    multiple: true,
    description: 'Host header accepted by the MCP endpoint, or "any" (repeatable; default localhost names).',
  },
  {
    flag: 'accept-origin',
    env: 'MCP_FETCH_ACCEPT_ORIGINS',
    type: 'string',
    multiple: true,
    description: 'Origin header accepted, or "any" (repeatable; default origins on accepted hosts).',
  },
  { flag: 'help', env: '', type: 'boolean', short: 'h', description: 'Print usage and exit.' },
  { flag: 'version', env: '', type: 'boolean', short: 'v', description: 'Print the version and exit.' },
];

/** The CLI's settings after flags and environment are merged. */
export interface CliConfig {
  help: boolean;
  version: boolean;
  stdio: boolean;
  host: string;
  port: number;
  options: FetchServerOptions;
}

/** A bad flag or environment value; the CLI prints it and exits with status 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

const intFrom = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

const bool = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A flag's `MCP_FETCH_` variable; an empty variable counts as unset. */
export function readEnv(env: NodeJS.ProcessEnv, spec: FlagSpec): string | undefined {
  return (spec.env && env[spec.env]) || undefined;
}

/** Usage text, generated from {@link CLI_FLAGS}. */
export function usage(): string {
  const lines = CLI_FLAGS.map((f) => {
    const name = `${f.short ? `-${f.short}, ` : ''}--${f.flag}${f.type === 'string' ? ' <value>' : ''}`;
    return `  ${name.padEnd(28)} ${f.description}${f.env ? ` [env ${f.env}]` : ''}`;
  });
  return `Usage: mcp-fetch-server [options]\n\nA safe MCP fetch server (Streamable HTTP, or stdio with --stdio).\n\n${lines.join('\n')}\n`;
}

/**
 * Parses argv with node:util `parseArgs`; each flag falls back to its
 * environment variable, then to the library default.
 *
 * @throws {CliUsageError} on unknown flags or invalid values.
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliConfig {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        CLI_FLAGS.map((f) => [
          f.flag,
          { type: f.type, multiple: f.multiple ?? false, ...(f.short ? { short: f.short } : {}) },
        ]),
      ),
    }).values as Record<string, string | boolean | string[] | undefined>;
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const str = (flag: string): string | undefined => {
    const spec = CLI_FLAGS.find((f) => f.flag === flag)!;
    const v = values[flag];
    return typeof v === 'string' ? v : readEnv(env, spec);
  };
  const strs = (flag: string): string[] | undefined => {
    const spec = CLI_FLAGS.find((f) => f.flag === flag)!;
    const v = values[flag];
    if (Array.isArray(v) && v.length) return v.flatMap((s) => list(s));
    const fromEnv = list(readEnv(env, spec));
    return fromEnv.length ? fromEnv : undefined;
  };
  const flagOn = (flag: string): boolean => {
    const spec = CLI_FLAGS.find((f) => f.flag === flag)!;
    return values[flag] === true || bool(readEnv(env, spec));
  };
  const int = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = str(flag);
    if (raw === undefined) return undefined;
    const r = intFrom(`--${flag}`, min, max).safeParse(raw);
    if (!r.success) throw new CliUsageError(r.error.issues[0]!.message);
    return r.data;
  };
  const anyOrList = (flag: string): string[] | 'any' | undefined => {
    const v = strs(flag);
    return v?.includes('any') ? 'any' : v;
  };

  const options: FetchServerOptions = {
    userAgent: str('user-agent'),
    ignoreRobotsTxt: flagOn('ignore-robots-txt'),
    allowHosts: strs('allow-host'),
    maxBytes: int('max-size', 1),
    timeoutMs: int('timeout', 1),
    connectTimeoutMs: int('connect-timeout', 1),
    maxConcurrentFetches: int('max-concurrent-fetches', 1),
    maxConcurrentFetchesPerCaller: int('max-concurrent-fetches-per-caller', 1),
    conversionTimeoutMs: int('conversion-timeout', 1),
    conversionWorkers: int('conversion-workers', 1),
    proxy: str('proxy'),
    path: str('path'),
    stateful: flagOn('stateful'),
    allowedHosts: anyOrList('accept-host'),
    allowedOrigins: anyOrList('accept-origin'),
  };
  for (const k of Object.keys(options) as (keyof FetchServerOptions)[]) {
    if (options[k] === undefined) delete options[k];
  }
  return {
    help: values.help === true,
    version: values.version === true,
    stdio: flagOn('stdio'),
    host: str('host') ?? '127.0.0.1',
    port: int('port', 0, 65535) ?? 3000,
    options,
  };
}
