import { Environment } from '@marcbachmann/cel-js';

/**
 * Argument conditions of tool policies: CEL (the Common Expression Language,
 * https://github.com/google/cel-spec) through `@marcbachmann/cel-js`. CEL is
 * not Turing-complete, has no side effects and no I/O, so a condition cannot
 * loop or reach out; the parse-time limits below bound its size.
 *
 * Variables of every condition:
 * - `args` (map): the `tools/call` arguments (`{}` when absent);
 * - `tool` (string): the tool's name as the service publishes it;
 * - `sub` (string): the caller's user id; `clientId` (string, `""` when unknown);
 * - `groups` (list of strings): the caller's groups.
 *
 * Functions besides CEL's standard ones (`startsWith`, `endsWith`, `contains`,
 * `matches`, `in`, `size`, `has()`, `all`/`exists` …):
 * - `urlHost(string): string`: the lower-case host name of an absolute URL, `""` when it is none;
 * - `pathWithin(string, string): bool`: whether a `/`-path, with `.` and `..` resolved, is the
 *   prefix or under it (`pathWithin("/data/../etc", "/data")` is false).
 */

/** What a condition sees. */
export interface ConditionInput {
  args: Record<string, unknown>;
  tool: string;
  sub: string;
  clientId: string;
  groups: readonly string[];
}

/** A compiled condition: `true` when it holds. Throws when evaluation fails (missing key, wrong type). */
export type Condition = (input: ConditionInput) => boolean;

/** A condition that does not compile, with the reason. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError';
}

/** Most characters of one condition. */
export const MAX_CONDITION_LENGTH = 2000;

/** The host name of an absolute URL (lower case, no port), or `""`. */
function urlHost(value: string): string {
  try {
    return new URL(value).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** `path` with `.`, `..` and repeated slashes resolved; `undefined` for a relative path or one with NUL. */
function resolvePath(path: string): string | undefined {
  if (!path.startsWith('/') || path.includes('\0')) return undefined;
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

function pathWithin(path: string, prefix: string): boolean {
  const p = resolvePath(path);
  const base = resolvePath(prefix);
  if (p === undefined || base === undefined) return false;
  return base === '/' || p === base || p.startsWith(`${base}/`);
}

const environment = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 500, maxDepth: 32, maxListElements: 500, maxMapEntries: 100, maxCallArguments: 8 },
})
  .registerVariable('args', 'map')
  .registerVariable('tool', 'string')
  .registerVariable('sub', 'string')
  .registerVariable('clientId', 'string')
  .registerVariable('groups', 'list<string>')
  .registerFunction('urlHost(string): string', urlHost)
  .registerFunction('pathWithin(string, string): bool', pathWithin);

/**
 * Parses and type-checks `source` once (at config load); the result is
 * evaluated per call.
 *
 * @throws ConditionError when it does not parse, does not type-check, or is not a `bool`.
 */
export function compileCondition(source: string): Condition {
  if (source.length > MAX_CONDITION_LENGTH)
    throw new ConditionError(`longer than ${MAX_CONDITION_LENGTH} characters`);
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = environment.parse(source);
  } catch (err) {
    throw new ConditionError(firstLine(err));
  }
  const checked = parsed.check();
  if (!checked.valid) throw new ConditionError(firstLine(checked.error));
  if (checked.type !== 'bool' && checked.type !== 'dyn')
    throw new ConditionError(`must be a bool, not ${checked.type}`);
  return (input) => parsed(input) === true;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
