import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { federationConfigIssues } from '../federation/config-check.js';
import { authorizationConfigIssues } from './authorization-check.js';
import { applyEnvOverrides, envVariableFor, getAt, setAt, type EnvOverride } from './env.js';
import { ConfigError, fromZodIssues } from './errors.js';
import { defaultServices } from './defaults.js';
import { configSchema, type GatewayConfig } from './schema.js';

/** File names looked for in the working directory when no config is named. */
export const DEFAULT_CONFIG_FILES = ['mcp-gateway.yaml', 'mcp-gateway.yml', 'mcp-gateway.json'];

export interface LoadConfigOptions {
  /** Config file (JSON or YAML). Default: `MCP_GATEWAY_CONFIG`, then {@link DEFAULT_CONFIG_FILES} in `cwd`. */
  file?: string;
  /** Environment for overrides. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

/** A validated config and where it came from. */
export interface LoadedConfig {
  config: GatewayConfig;
  /** The file read, or `(defaults)`. */
  source: string;
  /** Fields set from `MCP_GATEWAY__*` variables. */
  overrides: EnvOverride[];
}

/** Parses JSON or YAML text; the file name decides, YAML being a superset of JSON otherwise. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(source, [
      {
        path: '(root)',
        message: `not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      },
    ]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(source, [{ path: '(root)', message: 'expected a mapping of fields' }]);
  }
  return doc as Record<string, unknown>;
}

/**
 * Validates a raw config object: fills in the embedded defaults (the fetch and
 * demo services when `services` is absent), applies environment overrides and
 * checks everything with the zod schema. Throws {@link ConfigError} naming each field at fault.
 */
export function resolveConfig(
  raw: Record<string, unknown>,
  opts: { source?: string; env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const source = opts.source ?? '(inline)';
  const doc = structuredClone(raw);
  if (doc.services === undefined) doc.services = defaultServices();
  const overrides = applyEnvOverrides(doc, opts.env ?? {});
  if (doc.issuer === undefined) doc.issuer = derivedIssuer(doc.listen);
  let result = configSchema.safeParse(doc);
  // Values from the environment are strings: give lists, numbers and booleans their type.
  for (let round = 0; !result.success && round < 8; round++) {
    let changed = false;
    for (const issue of result.error.issues) {
      if (issue.code !== 'invalid_type') continue;
      const fromEnv = overrides.some((o) => o.path.join('.') === issue.path.join('.'));
      const value = getAt(doc, issue.path);
      if (!fromEnv || typeof value !== 'string') continue;
      const coerced = coerce(value, issue.expected);
      if (coerced !== undefined) {
        setAt(doc, issue.path, coerced);
        changed = true;
      }
    }
    if (!changed) break;
    result = configSchema.safeParse(doc);
  }
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue) => {
      const o = overrides.find((x) => x.path.every((seg, i) => issue.path[i] === seg));
      return fromZodIssues([issue]).map((i) =>
        o ? { ...i, message: `${i.message} (from ${o.variable})` } : i,
      );
    });
    throw new ConfigError(source, issues);
  }
  const federationIssues = federationConfigIssues(result.data);
  if (federationIssues.length) throw new ConfigError(source, federationIssues);
  const asIssues = authorizationConfigIssues(result.data);
  if (asIssues.length) {
    throw new ConfigError(
      source,
      asIssues.map((i) => {
        const o = overrides.find((x) => i.path.startsWith(x.path.join('.')) && x.path.length > 0);
        const where = o ? `from ${o.variable}` : `set it in the file or with ${envVariableFor(i.path)}`;
        return { ...i, message: `${i.message} (${where})` };
      }),
    );
  }
  return { config: result.data, source, overrides };
}

/**
 * The issuer when the config names none: `http://<listen host>:<listen port>`
 * (127.0.0.1 for a wildcard host), so `MCP_GATEWAY__LISTEN__PORT=9000` alone works.
 */
function derivedIssuer(listen: unknown): string | undefined {
  const l = (listen && typeof listen === 'object' ? listen : {}) as { host?: unknown; port?: unknown };
  const port = l.port === undefined ? 8080 : Number(l.port);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const host = typeof l.host === 'string' && !['0.0.0.0', '::', ''].includes(l.host) ? l.host : '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function coerce(value: string, expected: string): unknown {
  if (expected === 'array') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (expected === 'number' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (expected === 'boolean' && /^(true|false|1|0|yes|no)$/i.test(value.trim())) {
    return /^(true|1|yes)$/i.test(value.trim());
  }
  if (expected === 'string') return value;
  return undefined;
}

/**
 * Finds, reads and validates the config: `opts.file`, else `MCP_GATEWAY_CONFIG`,
 * else `mcp-gateway.yaml|yml|json` in `cwd`, else the embedded defaults.
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  let file = opts.file ?? env.MCP_GATEWAY_CONFIG;
  if (!file) file = DEFAULT_CONFIG_FILES.find((f) => existsSync(path.resolve(cwd, f)));
  if (!file) return resolveConfig({}, { source: '(defaults)', env });
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      {
        path: '(root)',
        message: `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      },
    ]);
  }
  return resolveConfig(parseConfigText(text, file), { source: file, env });
}
