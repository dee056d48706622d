// MCP 2026-07-28 (SEP-2243) header values, one copy for everyone who writes or reads them: the
// client (`Mcp-Name`, `Mcp-Param-*`), the bridge (checks them), the gateway's federation (mirrors
// them to members), the testkit. Spec: basic/transports/streamable-http, "Value Encoding".

const PREFIX = '=?base64?';
const SUFFIX = '?=';

/** Canonical Base64 (RFC 4648 §4): whole quanta, `=` padding where due, no whitespace. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Visible ASCII and space: what a value may be sent as without encoding. */
const PLAIN = /^[\x20-\x7e]*$/;

/** Visible ASCII, space and tab: what a received header value may contain (RFC 9110 field value). */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** True when `value` has the sentinel's shape `=?base64?…?=` (markers case-sensitive). */
function isSentinel(value: string): boolean {
  return value.length >= PREFIX.length + SUFFIX.length && value.startsWith(PREFIX) && value.endsWith(SUFFIX);
}

/**
 * A value as a client sends it in `Mcp-Name` or `Mcp-Param-{Name}`: as is when
 * it is visible ASCII and spaces with no space at either end and not shaped
 * like the sentinel; else `=?base64?{Base64 of its UTF-8}?=` (non-ASCII,
 * control characters such as tab or newline, a leading or trailing space, a
 * literal `=?base64?…?=`). The empty string is sent as is.
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value) && !value.startsWith(' ') && !value.endsWith(' ') && !isSentinel(value)) return value;
  let binary = '';
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte);
  return `${PREFIX}${btoa(binary)}${SUFFIX}`;
}

/**
 * A received `Mcp-Name` or `Mcp-Param-{Name}` value as the client meant it:
 * spaces and tabs at either end dropped (HTTP does so), and the payload of
 * `=?base64?…?=` decoded as UTF-8 (anything else, `=?BASE64?…?=` included, is
 * literal). `undefined` when the value is malformed, which never matches a
 * body value: a character outside visible ASCII, space and tab, or a sentinel
 * whose payload is not canonical Base64 (padding included) of UTF-8 text.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = plainHeaderValue(raw);
  if (value === undefined || !isSentinel(value)) return value;
  const data = value.slice(PREFIX.length, value.length - SUFFIX.length);
  if (!BASE64.test(data)) return undefined;
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A received value of a mirrored header that does not permit the sentinel encoding
 * (`MCP-Protocol-Version`, `Mcp-Method`: only `Mcp-Name` and `Mcp-Param-{Name}` do): spaces and
 * tabs at either end dropped (HTTP does so), nothing decoded, so `=?base64?…?=` is the literal
 * text and matches no method or version. `undefined` when the value has a character outside
 * visible ASCII, space and tab.
 */
export function plainHeaderValue(raw: string): string | undefined {
  if (!FIELD_VALUE.test(raw)) return undefined;
  return raw.replace(/^[\t ]+|[\t ]+$/g, '');
}
