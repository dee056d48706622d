/**
 * A `WWW-Authenticate` value read the way a client reads it (RFC 9110 §11.6.1):
 * each challenge's scheme and its auth-params, so tests check what a
 * challenge says rather than the order its parameters are written in.
 */

/** One challenge: its scheme (`Bearer`, `DPoP`) and its parameters, names lower-cased. */
export interface ParsedChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * The challenges of a `WWW-Authenticate` value, in order. Quoted-string
 * values are unescaped (`\"` → `"`); token values are taken as they are.
 *
 * @throws TypeError when the value is not a list of `scheme [param=value, …]` challenges.
 */
export function parseWwwAuthenticate(header: string | null | undefined): ParsedChallenge[] {
  const out: ParsedChallenge[] = [];
  let rest = (header ?? '').trim();
  const fail = (): never => {
    throw new TypeError(`not a WWW-Authenticate value: ${header}`);
  };
  while (rest.length) {
    const scheme = TOKEN.exec(rest)?.[0] ?? fail();
    rest = rest.slice(scheme.length).trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    const challenge: ParsedChallenge = { scheme, params: {} };
    out.push(challenge);
    // auth-params until the next challenge (a token not followed by `=`) or the end.
    while (rest.length) {
      const name = TOKEN.exec(rest)?.[0] ?? fail();
      const after = rest.slice(name.length).trimStart();
      if (!after.startsWith('=')) break;
      let value = after.slice(1).trimStart();
      let parsed: string;
      if (value.startsWith('"')) {
        const m = /^"((?:[^"\\]|\\.)*)"/.exec(value) ?? fail();
        parsed = m[1]!.replace(/\\(.)/g, '$1');
        value = value.slice(m[0].length);
      } else {
        const m = TOKEN.exec(value) ?? fail();
        parsed = m[0];
        value = value.slice(m[0].length);
      }
      challenge.params[name.toLowerCase()] = parsed;
      rest = value.trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
      else if (rest.length) fail();
    }
  }
  return out;
}

/** The parameters of each challenge by scheme (`{ Bearer: {…}, DPoP: {…} }`); see {@link parseWwwAuthenticate}. */
export function challengeParams(header: string | null | undefined): Record<string, Record<string, string>> {
  return Object.fromEntries(parseWwwAuthenticate(header).map((c) => [c.scheme, c.params]));
}
