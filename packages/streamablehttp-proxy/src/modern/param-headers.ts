/**
 * SEP-2243 custom headers, server side: a tool may mark an argument with
 * `x-mcp-header: "Name"` in its `inputSchema`, and a 2026-07-28 client then
 * mirrors that argument into an `Mcp-Param-Name` header on `tools/call`. A
 * server that processes the body MUST check each such header against the
 * argument (decoded if `=?base64?…?=`), a header missing while the argument
 * has a value included, and refuse a mismatch with 400 `-32020`.
 *
 * The declarations are read once per tool list ({@link toolParamHeaders}) and
 * kept only for tools that have any, so a call of any other tool costs one
 * map lookup.
 */
import type { JsonRpcId } from '../jsonrpc.js';
import { decodeHeaderValue, headerMismatch, type HeaderReader } from './envelope.js';

/** One `x-mcp-header` declaration of a tool. */
export interface ParamHeader {
  /** `Mcp-Param-{name}` as declared (for messages). */
  readonly header: string;
  /** The same in lower case, as the HTTP layer reads headers. */
  readonly key: string;
  /** The chain of `properties` keys from `arguments` to the value. */
  readonly path: readonly string[];
}

/** Tool name → its declarations; tools without any are absent. */
export type ToolParamHeaders = ReadonlyMap<string, readonly ParamHeader[]>;

/** No tool declares any. */
export const NO_PARAM_HEADERS: ToolParamHeaders = new Map();

/** RFC 9110 `token`: what a header name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** How deep nested `properties` are followed. */
const MAX_DEPTH = 16;

/** A decimal number as a header carries one (`42`, `-7`, `42.0`). */
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * The declarations of a `tools/list` result's tools: every `x-mcp-header`
 * reached from the root of an `inputSchema` through `properties` keys alone
 * (the spec's "statically reachable"), whose name is a header-name token.
 * Annotations anywhere else make the tool invalid, and conforming clients do
 * not call it; they are not looked at.
 */
export function toolParamHeaders(tools: readonly unknown[]): ToolParamHeaders {
  const out = new Map<string, ParamHeader[]>();
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.name !== 'string') continue;
    const found: ParamHeader[] = [];
    collect(tool.inputSchema, [], found);
    if (found.length > 0) out.set(tool.name, found);
  }
  return out;
}

function collect(schema: unknown, path: readonly string[], out: ParamHeader[]): void {
  if (!isObject(schema) || path.length >= MAX_DEPTH) return;
  const props = schema.properties;
  if (!isObject(props)) return;
  for (const key of Object.keys(props)) {
    const prop = props[key];
    if (!isObject(prop)) continue;
    const at = [...path, key];
    const name = prop['x-mcp-header'];
    if (typeof name === 'string' && TOKEN.test(name)) {
      out.push({ header: `Mcp-Param-${name}`, key: `mcp-param-${name.toLowerCase()}`, path: at });
    }
    collect(prop, at, out);
  }
}

/**
 * Throws 400 `-32020` (HeaderMismatch) answering request `id` unless every
 * declared argument with a value (a string, number or boolean) has its
 * header, equal once decoded: strings as they are, booleans as `true` /
 * `false`, numbers compared numerically (`42.0` is `42`). An argument that is
 * absent or `null` expects no header (one sent anyway is not looked at).
 */
export function checkParamHeaders(
  id: JsonRpcId,
  declared: readonly ParamHeader[],
  args: unknown,
  header: HeaderReader,
): void {
  for (const d of declared) {
    const value = valueAt(args, d.path);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    const raw = header(d.key);
    if (raw === null)
      throw headerMismatch(id, d.header, `is required (arguments.${d.path.join('.')} is set)`);
    const sent = decodeHeaderValue(raw);
    if (sent !== undefined && same(sent, value)) continue;
    throw headerMismatch(id, d.header, `does not match arguments.${d.path.join('.')}`);
  }
}

function same(sent: string, value: string | number | boolean): boolean {
  if (typeof value === 'string') return sent === value;
  if (typeof value === 'boolean') return sent === (value ? 'true' : 'false');
  return DECIMAL.test(sent) && Number(sent) === value;
}

/** The value at `path` in `args` (own properties of objects only). */
function valueAt(args: unknown, path: readonly string[]): unknown {
  let node = args;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
