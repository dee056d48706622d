/**
 * HTML escaped by construction: `html` is a tagged template that escapes every
 * interpolated value unless it is itself {@link SafeHtml} (built by `html` or
 * by {@link raw}). Client-supplied strings can only reach a page as text, and
 * without the invisible characters that could make them read differently
 * from what they are ({@link stripInvisible}).
 */

const SAFE = Symbol('safe-html');

/** Markup that is already safe to emit. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly value: string;
  toString(): string;
}

function safe(value: string): SafeHtml {
  return { [SAFE]: true, value, toString: () => value };
}

const isSafe = (v: unknown): v is SafeHtml => typeof v === 'object' && v !== null && SAFE in v;

/**
 * Bidirectional controls (U+061C, U+200E/U+200F, U+202A–U+202E,
 * U+2066–U+2069) and zero-width or invisible characters (U+200B–U+200D,
 * U+2060–U+2064, U+FEFF, U+180E): with them a client name like
 * `Trusted\u202Eevil` shows as something else than it is.
 */
const INVISIBLE = /[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** Removes bidi controls and zero-width characters (see {@link escapeHtml}). */
export function stripInvisible(value: string): string {
  return value.replace(INVISIBLE, '');
}

/**
 * Escapes text for element content and quoted attribute values, after
 * removing bidi controls and zero-width characters ({@link stripInvisible}):
 * every interpolated value on every page goes through here.
 */
export function escapeHtml(value: string): string {
  return stripInvisible(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/`/g, '&#96;');
}

type Interpolation = string | number | SafeHtml | undefined | null | false | Interpolation[];

function render(v: Interpolation): string {
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (isSafe(v)) return v.value;
  return escapeHtml(String(v));
}

/** Builds markup; every `${value}` is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return safe(out);
}

/** Marks trusted markup (operator-supplied CSS, our own constants) as safe. Never pass client input. */
export function raw(value: string): SafeHtml {
  return safe(value);
}
