/**
 * Duplicate member names in a JSON text. RFC 8259 §4 only says names SHOULD be unique, and parsers
 * disagree on a repeated one: `JSON.parse` keeps the last value, others (RapidJSON's `FindMember`,
 * simdjson's On-Demand fields, gjson) the first. A gateway that decides on the parsed body (the
 * per-tool policy reads `method`, `params.name` and `params.arguments`; the tool-call log and
 * webhooks name `params.name`) and forwards the bytes as sent must refuse such a body, or
 * `{"name":"denied","name":"allowed"}` would be judged and logged as `allowed` and run as `denied`
 * by a server whose parser keeps the first (RFC 7493 I-JSON §2.3: objects MUST NOT have duplicate
 * names).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** One open object: the names seen so far (the first alone, then a set), and whether a name comes next. */
interface ObjectFrame {
  first: string | undefined;
  more: Set<string> | undefined;
  nameNext: boolean;
}

/**
 * The first member name that occurs twice in one object of `text`, as decoded (`"n\u0061me"` is
 * `name`); `undefined` when every object's names are distinct. `text` must be valid JSON (call it
 * after `JSON.parse` accepted it): the scan only tracks strings, objects and arrays. One pass, no
 * recursion; a `Set` only for objects with more than one member.
 */
export function duplicateMemberName(text: string): string | undefined {
  // Open containers, innermost last: an object's frame, or `null` for an array.
  const stack: Array<ObjectFrame | null> = [];
  let top: ObjectFrame | null | undefined;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (top && top.nameNext) {
        top.nameNext = false;
        const name = memberName(text, i, end);
        if (top.first === undefined) top.first = name;
        else {
          if (name === top.first || top.more?.has(name)) return name;
          (top.more ??= new Set()).add(name);
        }
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      top = { first: undefined, more: undefined, nameNext: true };
      stack.push(top);
    } else if (c === OPEN_ARRAY) {
      top = null;
      stack.push(top);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
    } else if (c === COMMA && top) {
      top.nameNext = true;
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start` (the text's length when none does). */
function stringEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return text.length;
    let b = i - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((i - 1 - b) % 2 === 0) return i; // an even run of backslashes: this quote is not escaped
  }
}

/** The decoded text of the name token `text[start..end]` (quotes included). */
function memberName(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return raw; // not valid JSON after all: compared as written
  }
}
