import iconv from 'iconv-lite';

/** The parsed `Content-Type` header. */
export interface MediaType {
  /** Lower-case `type/subtype`, or `''` when absent. */
  essence: string;
  /** Lower-case `charset` parameter, when present. */
  charset?: string;
}

/** Parses a `Content-Type` header value (RFC 9110 §8.3). */
export function parseContentType(value: string | undefined): MediaType {
  if (!value) return { essence: '' };
  const [type = '', ...params] = value.split(';');
  const result: MediaType = { essence: type.trim().toLowerCase() };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const v = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (v) result.charset = v;
  }
  return result;
}

function bomCharset(bytes: Uint8Array): { charset: string; length: number } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { charset: 'utf-8', length: 3 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { charset: 'utf-16be', length: 2 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { charset: 'utf-16le', length: 2 };
  return undefined;
}

/**
 * Looks for `<meta charset="…">` or `<meta http-equiv="Content-Type"
 * content="…; charset=…">` in the first 1024 bytes, as the HTML prescan
 * does (WHATWG HTML §13.2.3.2), in an ASCII-compatible reading.
 */
export function sniffMetaCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  for (const m of head.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = m[0];
    const direct = /\bcharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(tag);
    if (direct && !/http-equiv/i.test(tag)) return direct[1]!.toLowerCase();
    if (/http-equiv\s*=\s*["']?\s*content-type/i.test(tag)) {
      const content = /\bcontent\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
      const value = content?.[2] ?? content?.[3] ?? content?.[4];
      const cs = value && /charset\s*=\s*["']?([\w.:-]+)/i.exec(value);
      if (cs) return cs[1]!.toLowerCase();
    }
  }
  return undefined;
}

/** How the body bytes were decoded, for diagnostics and tests. */
export interface Decoded {
  text: string;
  /** The charset used (a label iconv-lite knows). */
  charset: string;
  /** Where the charset came from. */
  source: 'bom' | 'header' | 'meta' | 'default';
}

/**
 * Decodes a body to text. Precedence follows the HTML encoding sniffing
 * rules: a byte-order mark, then the `Content-Type` charset, then (for HTML)
 * a `<meta>` declaration, then UTF-8. Unknown labels fall through to the
 * next source. Decoding is done by iconv-lite, which knows the legacy
 * encodings (windows-1251, Shift_JIS, EUC-KR, GB18030, ...) that
 * `TextDecoder` on a small-ICU Node build may lack.
 */
export function decodeBody(bytes: Uint8Array, mediaType: MediaType, isHtml: boolean): Decoded {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const bom = bomCharset(buf);
  if (bom)
    return { text: iconv.decode(buf.subarray(bom.length), bom.charset), charset: bom.charset, source: 'bom' };
  const candidates: [string | undefined, Decoded['source']][] = [
    [mediaType.charset, 'header'],
    [isHtml ? sniffMetaCharset(buf) : undefined, 'meta'],
  ];
  for (const [label, source] of candidates) {
    if (!label) continue;
    // A page that claims UTF-16 in a meta tag is read as UTF-8 (WHATWG rule).
    const charset = source === 'meta' && /^utf-16/.test(label) ? 'utf-8' : label;
    if (iconv.encodingExists(charset)) return { text: iconv.decode(buf, charset), charset, source };
  }
  return { text: iconv.decode(buf, 'utf-8'), charset: 'utf-8', source: 'default' };
}
