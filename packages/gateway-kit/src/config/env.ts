/**
 * Environment overrides. Every config field can be set from the environment:
 * `MCP_GATEWAY__` followed by the field's path, segments separated by `__`,
 * each written in UPPER_SNAKE_CASE:
 *
 * | variable | field |
 * | --- | --- |
 * | `MCP_GATEWAY__ISSUER` | `issuer` |
 * | `MCP_GATEWAY__LISTEN__PORT` | `listen.port` |
 * | `MCP_GATEWAY__STORE__TYPE` | `store.type` |
 * | `MCP_GATEWAY__SERVICES__FETCH__ALLOW_HOSTS` | `services.fetch.allowHosts` |
 * | `MCP_GATEWAY__SERVICES__MY_API__URL` | `services.my-api.url` |
 * | `MCP_GATEWAY__WEBHOOKS__0__URL` | `webhooks[0].url` |
 *
 * Segments match existing keys ignoring case, `_` and `-`; new keys become
 * camelCase (fields) or lowercase-with-dashes (service names). Values are
 * parsed as JSON when they are JSON (`8080`, `true`, `["a","b"]`), else kept as
 * strings; a plain string given where a list is expected is split on commas.
 */

export const ENV_PREFIX = 'MCP_GATEWAY__';

/** Containers whose keys are names chosen by the user, not field names. */
const NAMED_KEYS = new Set(['services', 'env']);

/** A field overridden from the environment: where, and from which variable. */
export interface EnvOverride {
  path: (string | number)[];
  variable: string;
}

const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (/^(true|false|null|-?\d+(\.\d+)?|\[.*\]|\{.*\})$/s.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/**
 * Applies `MCP_GATEWAY__*` variables to a raw (unvalidated) config object, in
 * place, and returns which paths were set.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverride[] {
  const applied: EnvOverride[] = [];
  const names = Object.keys(env)
    .filter((k) => k.startsWith(ENV_PREFIX) && env[k] !== undefined)
    .sort();
  for (const variable of names) {
    const segments = variable.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    const path: (string | number)[] = [];
    let node: Container = raw;
    let parentKey = '';
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      let key: string | number;
      if (Array.isArray(node)) {
        key = /^\d+$/.test(seg) ? Number(seg) : seg;
      } else {
        const existing = Object.keys(node).find((k) => norm(k) === norm(seg));
        key = existing ?? (NAMED_KEYS.has(parentKey) ? seg.toLowerCase().replace(/_/g, '-') : camel(seg));
        if (parentKey === 'env' && existing === undefined) key = seg; // env var names keep their case
      }
      path.push(key);
      const slot = node as Record<string | number, unknown>;
      if (last) {
        slot[key] = parseValue(env[variable]!);
      } else {
        if (!isContainer(slot[key])) slot[key] = /^\d+$/.test(segments[i + 1]!) ? [] : {};
        node = slot[key] as Container;
        parentKey = String(key);
      }
    }
    applied.push({ path, variable });
  }
  return applied;
}

/** Reads the value at `path` in `obj`. */
export function getAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (!isContainer(cur)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Sets the value at `path` in `obj` (the parents exist). */
export function setAt(obj: unknown, path: readonly PropertyKey[], value: unknown): void {
  const parent = getAt(obj, path.slice(0, -1));
  if (isContainer(parent)) (parent as Record<PropertyKey, unknown>)[path[path.length - 1]!] = value;
}

/**
 * The variable that sets a config field: `tokens.accessTokenTtl` →
 * `MCP_GATEWAY__TOKENS__ACCESS_TOKEN_TTL`, `webhooks[0].url` → `MCP_GATEWAY__WEBHOOKS__0__URL`.
 */
export function envVariableFor(fieldPath: string): string {
  const segments = fieldPath
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)
    .map((s) =>
      s
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replace(/-/g, '_')
        .toUpperCase(),
    );
  return ENV_PREFIX + segments.join('__');
}
