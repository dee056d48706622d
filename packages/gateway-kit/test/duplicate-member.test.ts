// duplicateMemberName: member names repeated in one object of a JSON text, which JSON parsers
// resolve differently (the per-tool policy must not judge one value while a server runs another).
import { describe, expect, it } from 'vitest';
import { duplicateMemberName } from '../src/gateway/duplicate-member.js';

/** The scan, on a text `JSON.parse` accepts (as the MCP route calls it). */
const scan = (text: string) => {
  JSON.parse(text);
  return duplicateMemberName(text);
};

describe('duplicateMemberName', () => {
  it('distinct names: none, at any depth, in arrays, and in sibling or nested objects reusing a name', () => {
    expect(
      scan(
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}',
      ),
    ).toBeUndefined();
    expect(scan('[{"a":1},{"a":2},{"a":{"a":{"a":[{"a":0}]}}}]')).toBeUndefined();
    expect(scan('{"a":[1,{"b":2},[{"b":3}]],"b":{}}')).toBeUndefined();
    expect(scan('"a string"')).toBeUndefined();
    expect(scan('[]')).toBeUndefined();
    expect(scan('{}')).toBeUndefined();
  });

  it('a repeated name in the message, in params, or deep in arguments is found', () => {
    expect(scan('{"method":"tools/call","method":"ping","id":1}')).toBe('method');
    expect(scan('{"params":{"name":"denied","arguments":{},"name":"allowed"},"id":1}')).toBe('name');
    expect(
      scan('{"params":{"name":"fetch","arguments":{"url":"http://a/","x":[1],"url":"http://b/"}}}'),
    ).toBe('url');
    expect(scan('[{"id":1},{"id":2,"method":"a","b":{"c":[{"d":1,"e":2,"d":3}]}}]')).toBe('d');
    // The fourth name of an object repeats the second (the set, not only the first name).
    expect(scan('{"a":1,"b":2,"c":3,"b":4}')).toBe('b');
  });

  it('names are compared decoded: an escape spelling the same name is the same name', () => {
    expect(scan('{"name":"x","n\\u0061me":"y"}')).toBe('name');
    expect(scan('{"a\\"b":1,"a\\u0022b":2}')).toBe('a"b');
    expect(scan('{"\\\\":1,"\\u005c":2}')).toBe('\\');
  });

  it('strings are skipped whole: quotes, braces, commas and names inside values count for nothing', () => {
    expect(scan('{"a":"{\\"a\\":1,\\"a\\":2}","b":"\\\\","c":"x\\\\\\"y"}')).toBeUndefined();
    expect(scan('{"a":"]}[{,","b":"\\\\\\\\","a":0}')).toBe('a');
    expect(scan('{"k":"ends with a backslash \\\\","k2":1}')).toBeUndefined();
  });

  it('a long value is scanned in one pass and a text that is not JSON ends the scan', () => {
    const long = 'x'.repeat(1_000_000);
    expect(scan(`{"a":"${long}","b":"${long}"}`)).toBeUndefined();
    expect(scan(`{"a":"${long}","a":1}`)).toBe('a');
    // Unterminated (the route only scans what JSON.parse accepted; the scan still ends).
    expect(duplicateMemberName('{"a":"unterminated')).toBeUndefined();
    expect(duplicateMemberName('{"a":1,"a\\')).toBeUndefined();
  });
});
