/**
 * SEP-2243 custom headers of a member's `tools/call`: a 2026-07-28 member's tool
 * may mark arguments with `x-mcp-header: "<Name>"` in its `inputSchema`, and its
 * client (here the federated endpoint) MUST mirror each such argument into an
 * `Mcp-Param-<Name>` header (a conforming member answers `400`/`-32020` when one
 * is missing). The declarations are read from the member's `tools/list`.
 */
import type { Merged } from './names.js';

/** One `x-mcp-header` declaration: the argument's path (a chain of `properties` keys) and the header's name part. */
export interface ParamHeader {
  path: readonly string[];
  name: string;
}

/** RFC 9110 `token`: what a header name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Deepest `properties` chain followed (schemas nest far less). */
const MAX_DEPTH = 16;

/**
 * The `x-mcp-header` declarations of a tool's `inputSchema`: on properties reachable
 * through `properties` keys only (never `items`, `$ref`, composition), with a token for a name.
 */
export function paramHeadersOf(inputSchema: unknown): ParamHeader[] {
  const out: ParamHeader[] = [];
  collect(inputSchema, [], out);
  return out;
}

function collect(schema: unknown, path: string[], out: ParamHeader[]): void {
  if (path.length > MAX_DEPTH || typeof schema !== 'object' || schema === null) return;
  const props = (schema as { properties?: unknown }).properties;
  if (typeof props !== 'object' || props === null || Array.isArray(props)) return;
  for (const [key, prop] of Object.entries(props as Record<string, unknown>)) {
    if (typeof prop !== 'object' || prop === null) continue;
    const name = (prop as Record<string, unknown>)['x-mcp-header'];
    if (typeof name === 'string' && TOKEN.test(name)) out.push({ path: [...path, key], name });
    else collect(prop, [...path, key], out);
  }
}

/**
 * A header value as SEP-2243 sends it: as is when plain printable ASCII, else
 * `=?base64?<UTF-8 in Base64>?=` (control or non-ASCII characters, leading or
 * trailing whitespace, or a value that looks encoded already).
 */
export function headerValue(value: string): string {
  const plain = /^[\x20-\x7e]*$/.test(value) && value.trim() === value && !/^=\?base64\?.*\?=$/.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * The `Mcp-Param-*` headers of one call: each declared argument present in `args` as a
 * string, a safe integer or a boolean (an absent or `null` one has no header).
 */
export function paramHeaderValues(
  declared: readonly ParamHeader[],
  args: unknown,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const { path, name } of declared) {
    let v: unknown = args;
    for (const key of path) {
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    }
    const text =
      typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v))
        ? String(v)
        : undefined;
    if (text !== undefined) (out ??= {})[`mcp-param-${name.toLowerCase()}`] = headerValue(text);
  }
  return out;
}

/**
 * The declarations of the members' tools, as their last `tools/list` showed them (whoever
 * asked): each member's map replaced by its next list; only tools that declare any are kept.
 */
export class MemberParamHeaders {
  private readonly byService = new Map<string, Map<string, ParamHeader[]>>();

  /** Learns the declarations of a merged tool list (`items` as shown, `owners` by shown name). */
  learn(merged: Merged<Record<string, unknown>>): void {
    const listed = new Map<string, Map<string, ParamHeader[]>>();
    for (const owner of merged.owners.values())
      if (!listed.has(owner.service)) listed.set(owner.service, new Map());
    for (const tool of merged.items) {
      const owner = typeof tool.name === 'string' ? merged.owners.get(tool.name) : undefined;
      if (!owner) continue;
      const declared = paramHeadersOf(tool.inputSchema);
      if (declared.length > 0) listed.get(owner.service)!.set(owner.original, declared);
    }
    for (const [service, tools] of listed) this.byService.set(service, tools);
  }

  /** The `Mcp-Param-*` headers of a call of `service`'s tool `tool` with `args` (none when it declares none). */
  headers(service: string, tool: string, args: unknown): Record<string, string> | undefined {
    const declared = this.byService.get(service)?.get(tool);
    return declared ? paramHeaderValues(declared, args) : undefined;
  }
}
