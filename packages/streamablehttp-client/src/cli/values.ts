import { UsageError } from '../errors.js';

/** Expands `${NAME}` from `env`; an unset variable is a usage error (never sent as an empty credential). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new UsageError(`environment variable ${name} is not set (used in a --header)`);
    return v;
  });
}

/** Parses repeated `--header 'Name: value'` flags. */
export function parseHeaders(flags: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const i = flag.indexOf(':');
    const name = i > 0 ? flag.slice(0, i).trim() : '';
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`--header must look like 'Name: value', got ${JSON.stringify(flag)}`);
    }
    out[name] = expandEnv(flag.slice(i + 1).trim(), env);
  }
  return out;
}

/** JSON if it parses (numbers, booleans, arrays, objects), else the string itself. */
export function looseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** A JSON Schema `properties` map, as far as coercion needs it. */
export type PropertyTypes = Record<string, { type?: string | string[] } | undefined>;

/**
 * Parses `key=value` pairs. With the tool's schema, a value for a `string`
 * property stays a string (`id=007` is `"007"`); otherwise JSON values are
 * parsed (`n=3`, `flag=true`, `tags=["a"]`).
 */
export function parsePairs(pairs: string[], properties?: PropertyTypes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`expected key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, i);
    const raw = pair.slice(i + 1);
    const type = properties?.[key]?.type;
    const isString = type === 'string' || (Array.isArray(type) && type.length === 1 && type[0] === 'string');
    out[key] = isString ? raw : looseValue(raw);
  }
  return out;
}

/** Parses `--args '{"a":1}'` (must be a JSON object). */
export function parseArgsJson(raw: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--args is not valid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('--args must be a JSON object');
  return v as Record<string, unknown>;
}

/** Splits `a=1 b="two words" c='x'` into `['a=1', 'b=two words', 'c=x']`. */
export function splitPairs(text: string): string[] {
  const out: string[] = [];
  const re = /([A-Za-z_][\w.-]*)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let m: RegExpExecArray | null;
  let consumed = '';
  while ((m = re.exec(text))) {
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? m[5] ?? '');
    out.push(`${m[1]}=${value}`);
    consumed += m[0];
  }
  if (consumed.replace(/\s/g, '').length !== text.replace(/\s/g, '').length) {
    throw new UsageError(`cannot read key=value pairs from ${JSON.stringify(text)}`);
  }
  return out;
}

/** How the Python original's `-c "tool args"` spells its arguments. */
export type CommandArgs =
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'pairs'; pairs: string[] }
  | { kind: 'single'; value: string }
  | { kind: 'none' };

/** Parses `-c "name rest"`: `rest` is a JSON object, `key=value` pairs, or one bare value. */
export function parseCommand(command: string): { name: string; args: CommandArgs } {
  const trimmed = command.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!m) throw new UsageError('-c needs a tool name, e.g. -c "echo message=hi"');
  const name = m[1]!;
  const rest = m[2]!.trim();
  if (!rest) return { name, args: { kind: 'none' } };
  if (rest.startsWith('{')) return { name, args: { kind: 'json', value: parseArgsJson(rest) } };
  if (/^[A-Za-z_][\w.-]*=/.test(rest)) return { name, args: { kind: 'pairs', pairs: splitPairs(rest) } };
  const unquoted = /^"(.*)"$|^'(.*)'$/.exec(rest);
  return { name, args: { kind: 'single', value: unquoted ? (unquoted[1] ?? unquoted[2] ?? '') : rest } };
}

/** Splits `--update-client "a=1,b=x"` (a comma starts a new pair only before `key=`). */
export function splitCommaPairs(text: string): string[] {
  return text
    .split(/,(?=\s*[A-Za-z_][\w.-]*=)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
