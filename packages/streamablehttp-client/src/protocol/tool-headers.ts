/**
 * SEP-2243 custom headers: a tool marks an argument with `x-mcp-header: "Name"`
 * in its `inputSchema`, and a 2026-07-28 client mirrors that argument into an
 * `Mcp-Param-Name` header on `tools/call`. A tool whose declarations are
 * invalid (empty name, a character outside the RFC 9110 token set, a
 * non-primitive or `number` property, a name used twice ignoring case) MUST be
 * excluded by the client: {@link toolHeaders} says why, and the client drops it.
 */

/** RFC 9110 `token`: what a header name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Property types an `x-mcp-header` may sit on. */
const HEADER_TYPES = new Set(['string', 'integer', 'boolean']);

/** A tool's `Mcp-Param-*` declarations: argument name → header name (without the prefix). */
export type ToolHeaderMap = ReadonlyMap<string, string>;

/** The declarations of a tool, or why they are invalid. */
export type ToolHeaderCheck = { ok: true; headers: ToolHeaderMap } | { ok: false; reason: string };

/** Reads and validates the `x-mcp-header` declarations of a tool's `inputSchema`. */
export function toolHeaders(inputSchema: unknown): ToolHeaderCheck {
  const headers = new Map<string, string>();
  const props = (inputSchema as { properties?: unknown } | null)?.properties;
  if (!props || typeof props !== 'object') return { ok: true, headers };
  const seen = new Set<string>();
  for (const [arg, schema] of Object.entries(props as Record<string, unknown>)) {
    if (!schema || typeof schema !== 'object' || !('x-mcp-header' in schema)) continue;
    const name = schema['x-mcp-header'];
    if (typeof name !== 'string' || name === '')
      return { ok: false, reason: `x-mcp-header of "${arg}" is empty or not a string` };
    if (!TOKEN.test(name))
      return { ok: false, reason: `x-mcp-header "${name}" of "${arg}" is not a valid header name` };
    const type = (schema as { type?: unknown }).type;
    if (typeof type !== 'string' || !HEADER_TYPES.has(type))
      return {
        ok: false,
        reason: `x-mcp-header "${name}" sits on "${arg}" of type ${JSON.stringify(type)} (only string, integer, boolean)`,
      };
    const folded = name.toLowerCase();
    if (seen.has(folded)) return { ok: false, reason: `x-mcp-header "${name}" is declared twice` };
    seen.add(folded);
    headers.set(arg, name);
  }
  return { ok: true, headers };
}

/** True when a header value must be sent Base64-encoded: non-printable-ASCII or surrounding whitespace. */
function needsBase64(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  return value !== value.trim() || /^=\?base64\?.*\?=$/.test(value);
}

/** Encodes a header value per SEP-2243: as is, or `=?base64?<utf-8 base64>?=`. */
export function encodeHeaderValue(value: string): string {
  if (!needsBase64(value)) return value;
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `=?base64?${btoa(binary)}?=`;
}

/**
 * The `Mcp-Param-*` headers of one `tools/call`: each declared argument that
 * is present and not null, as text (`true`/`false` for booleans).
 */
export function paramHeaders(map: ToolHeaderMap, args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args || typeof args !== 'object') return out;
  for (const [arg, name] of map) {
    const v = (args as Record<string, unknown>)[arg];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
    out[`Mcp-Param-${name}`] = encodeHeaderValue(String(v));
  }
  return out;
}
