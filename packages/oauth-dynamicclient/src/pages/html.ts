/**
 * HTML escaped by construction: `html` is a tagged template that escapes every
 * interpolated value unless it is itself {@link SafeHtml} (built by `html` or
 * by {@link raw}). Client-supplied strings can only reach a page as text.
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

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
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
