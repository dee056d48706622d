// MCP 2026-07-28 (SEP-2243) custom headers from tool parameters: a tool marks an argument with
// `x-mcp-header: "<Name>"` in its `inputSchema`, and a Streamable HTTP client mirrors the argument
// into an `Mcp-Param-<Name>` header on `tools/call`. One vocabulary for the client (sends them,
// drops tools whose declarations are invalid), the bridge (checks them against the body) and the
// gateway's federation (mirrors them to members); what each does with it stays in each package.
// Spec: basic/transports/streamable-http, "Custom Headers from Tool Parameters".
import { isObject } from './is-object.js';
import { decodeHeaderValue, encodeHeaderValue } from './mcp-header-value.js';

/** One `x-mcp-header` declaration of a tool. */
export interface ParamHeader {
  /** The declared name part (`Region`). */
  readonly name: string;
  /** `Mcp-Param-{name}` as declared, for messages. */
  readonly header: string;
  /** The same in lower case: how HTTP layers read it and how it is sent. */
  readonly key: string;
  /** The chain of `properties` keys from `arguments` to the argument. */
  readonly path: readonly string[];
}

/** What a tool's `inputSchema` declares. */
export interface ParamHeaderDeclarations {
  /**
   * The usable declarations, in schema order: on a property reached from the
   * root through `properties` keys alone, with a header-name token for a name,
   * the first of names equal ignoring case. Filled even when {@link invalid} is set.
   */
  readonly params: readonly ParamHeader[];
  /** Why the declarations make the tool invalid (the first reason found); `undefined` when they are valid. */
  readonly invalid: string | undefined;
}

/** RFC 9110 `token` (`1*tchar`): what the name part may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The JSON Schema types an annotated property may have (`number` is not one). */
const HEADER_TYPES = new Set(['string', 'integer', 'boolean']);

/** Keywords whose value is a subschema or an array of them (JSON Schema 2020-12 and draft-07 applicators). */
const SUBSCHEMA = new Set([
  'additionalProperties',
  'propertyNames',
  'items',
  'prefixItems',
  'additionalItems',
  'contains',
  'unevaluatedItems',
  'unevaluatedProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
]);

/** Keywords whose value maps names to subschemas (`properties` aside). */
const SCHEMA_MAP = new Set(['patternProperties', 'dependentSchemas', 'dependencies', '$defs', 'definitions']);

/** Deepest schema nesting read; a deeper `inputSchema` is invalid. */
const MAX_DEPTH = 64;

/**
 * Reads the `x-mcp-header` declarations of a tool's `inputSchema`. They are
 * invalid (spec: "Schema Extension"; a client MUST then exclude the tool) when
 * a name is empty, not a string or not a token; two names are equal ignoring
 * case; an annotated property's `type` is not `string`, `integer` or `boolean`
 * (a type list of those and `null` is accepted); or an annotation sits
 * anywhere but on a property reached from the root through `properties` keys
 * alone (under `items`, `oneOf`, `if`, `$defs` behind a `$ref`, … or on the
 * root itself). Subschemas are found through the JSON Schema applicator
 * keywords; values of other keywords (`default`, `const`, `x-…`) are data.
 */
export function parseParamHeaders(inputSchema: unknown): ParamHeaderDeclarations {
  const found: Found = { params: [], invalid: undefined, names: new Set() };
  visit(inputSchema, [], 0, found);
  return { params: found.params, invalid: found.invalid };
}

interface Found {
  params: ParamHeader[];
  invalid: string | undefined;
  /** Lower-case names seen so far. */
  names: Set<string>;
}

/** Visits `schema`; `path` is its `properties` chain from the root, `null` when it is not reachable so. */
function visit(schema: unknown, path: readonly string[] | null, depth: number, found: Found): void {
  if (!isObject(schema)) return;
  if (depth > MAX_DEPTH) {
    found.invalid ??= `inputSchema nests deeper than ${MAX_DEPTH} levels`;
    return;
  }
  if (Object.hasOwn(schema, 'x-mcp-header')) annotation(schema, path, found);
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'properties') {
      if (!isObject(value)) continue;
      for (const [name, sub] of Object.entries(value))
        visit(sub, path === null ? null : [...path, name], depth + 1, found);
    } else if (SUBSCHEMA.has(keyword)) {
      if (Array.isArray(value)) for (const sub of value) visit(sub, null, depth + 1, found);
      else visit(value, null, depth + 1, found);
    } else if (SCHEMA_MAP.has(keyword) && isObject(value)) {
      for (const sub of Object.values(value)) visit(sub, null, depth + 1, found);
    }
  }
}

function annotation(schema: Record<string, unknown>, path: readonly string[] | null, found: Found): void {
  const name = schema['x-mcp-header'];
  const fail = (reason: string) => void (found.invalid ??= reason);
  if (typeof name !== 'string' || name === '')
    return fail(`an x-mcp-header is ${name === '' ? 'empty' : 'not a string'}`);
  if (!TOKEN.test(name)) return fail(`x-mcp-header ${JSON.stringify(name)} is not a header-name token`);
  if (path === null)
    return fail(
      `x-mcp-header "${name}" is not on a property reached through properties keys alone (items, oneOf, $ref, … are not)`,
    );
  if (path.length === 0) return fail(`x-mcp-header "${name}" is on the schema root, not on a property`);
  const at = `arguments.${path.join('.')}`;
  const key = `mcp-param-${name.toLowerCase()}`;
  if (found.names.has(key)) return fail(`x-mcp-header "${name}" (${at}) is declared twice, ignoring case`);
  found.names.add(key);
  if (!primitive(schema.type))
    fail(
      `x-mcp-header "${name}" is on ${at} of type ${JSON.stringify(schema.type)} (string, integer or boolean only)`,
    );
  found.params.push({ name, header: `Mcp-Param-${name}`, key, path });
}

/** `string`, `integer`, `boolean`, or a list of those and `null`. */
function primitive(type: unknown): boolean {
  if (typeof type === 'string') return HEADER_TYPES.has(type);
  return (
    Array.isArray(type) &&
    type.some((t) => HEADER_TYPES.has(t)) &&
    type.every((t) => t === 'null' || HEADER_TYPES.has(t))
  );
}

/** The argument at `path` in `args` (own properties of objects only); `undefined` when a step is missing. */
export function argumentAt(args: unknown, path: readonly string[]): unknown {
  let node = args;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * The text an argument is mirrored as ("Value Encoding", type conversion):
 * a string as it is, a boolean `true`/`false`, a number in decimal (`42`,
 * `-7`). `undefined` for what is not mirrored: absent, `null`, an object or
 * array. Every side uses it, so what a client sends is what a server expects.
 */
export function paramValueText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * The `Mcp-Param-*` headers of a call of a tool with declarations `params`:
 * lower-case names, values encoded ({@link encodeHeaderValue}); one for each
 * declared argument with a value ({@link paramValueText}). `undefined` when none.
 */
export function paramHeaderValues(
  params: readonly ParamHeader[],
  args: unknown,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const p of params) {
    const text = paramValueText(argumentAt(args, p.path));
    if (text !== undefined) (out ??= {})[p.key] = encodeHeaderValue(text);
  }
  return out;
}

/** A number as a header may carry one: decimal, with an optional fraction and exponent. */
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Whether a received header value mirrors an argument: decoded first
 * ({@link decodeHeaderValue}; a malformed value mirrors nothing), then equal
 * as text to a string or boolean's {@link paramValueText}, and numerically to
 * a number (`42.0` mirrors `42`).
 */
export function headerMirrors(raw: string, value: string | number | boolean): boolean {
  const sent = decodeHeaderValue(raw);
  if (sent === undefined) return false;
  if (typeof value === 'number') return NUMBER.test(sent) && Number(sent) === value;
  return sent === paramValueText(value);
}

/** A `tools/call` header that does not mirror its argument: which, and how. */
export interface ParamHeaderMismatch {
  /** `Mcp-Param-{name}` as declared. */
  readonly header: string;
  /** What is wrong with it, for the message (`is required (arguments.region is set)`, …). */
  readonly problem: string;
}

/**
 * The server side's check ("Server Behavior for Custom Headers"): the first declared argument
 * whose header does not mirror it; `undefined` when every one matches. An argument with a value
 * (a string, number or boolean) needs its header, equal once decoded ({@link headerMirrors}). An
 * argument that is absent or `null` needs none (its client MUST omit it), but a header sent for
 * it mirrors nothing in the body, so it is a mismatch too: a server MUST validate every
 * recognized header against the body, and an intermediary may have routed on it. Each side
 * refuses a mismatch with its own error (`400`, `-32020`).
 *
 * @param header a request header by lower-case name (`null` when absent)
 */
export function paramHeaderMismatch(
  declared: readonly ParamHeader[],
  args: unknown,
  header: (key: string) => string | null,
): ParamHeaderMismatch | undefined {
  for (const d of declared) {
    const value = argumentAt(args, d.path);
    const raw = header(d.key);
    const at = `arguments.${d.path.join('.')}`;
    if (paramValueText(value) === undefined) {
      if (raw !== null) return { header: d.header, problem: `is sent but ${at} ${unmirrored(value)}` };
    } else if (raw === null) return { header: d.header, problem: `is required (${at} is set)` };
    else if (!headerMirrors(raw, value as string | number | boolean))
      return { header: d.header, problem: `does not match ${at}` };
  }
  return undefined;
}

/** Why an argument has no header value: absent, `null`, or of a type no header carries. */
function unmirrored(value: unknown): string {
  if (value === undefined) return 'is absent';
  if (value === null) return 'is null';
  return 'is not a string, number or boolean';
}
