// The shared SEP-2243 vocabulary (packages/internal, inlined into the client, the bridge, the gateway
// and the testkit), against MCP 2026-07-28 basic/transports/streamable-http ("Custom Headers from
// Tool Parameters", "Value Encoding") and the conformance tables of SEP-2243. Where the SEP's tables
// and the current spec differ, the spec wins: nested properties are allowed (the SEP's table rejects
// them) and `type: "number"` is not (the SEP's table has a floating-point row).
import { describe, expect, it } from 'vitest';
import { decodeHeaderValue, encodeHeaderValue } from '../src/mcp-header-value.js';
import {
  argumentAt,
  headerMirrors,
  paramHeaderValues,
  paramValueText,
  parseParamHeaders,
} from '../src/mcp-param-headers.js';

/** An `inputSchema` with `properties`. */
const schema = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...extra,
});
const str = (name: string) => ({ type: 'string', 'x-mcp-header': name });

describe('header values (Value Encoding)', () => {
  it.each([
    // The spec's table.
    ['us-west1', 'us-west1'],
    ['Hello, 世界', '=?base64?SGVsbG8sIOS4lueVjA==?='],
    [' padded ', '=?base64?IHBhZGRlZCA=?='],
    ['line1\nline2', '=?base64?bGluZTEKbGluZTI=?='],
    ['=?base64?literal?=', '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='],
    // SEP-2243 "Value Encoding Edge Cases".
    [' us-west1', '=?base64?IHVzLXdlc3Qx?='],
    ['us-west1 ', '=?base64?dXMtd2VzdDEg?='],
    [' us-west1 ', '=?base64?IHVzLXdlc3QxIA==?='],
    ['us west 1', 'us west 1'],
    ['日本語', '=?base64?5pel5pys6Kqe?='],
    ['line1\r\nline2', '=?base64?bGluZTENCmxpbmUy?='],
    ['\tindented', '=?base64?CWluZGVudGVk?='],
    ['', ''],
  ])('%j is sent as %j and read back', (value, sent) => {
    expect(encodeHeaderValue(value)).toBe(sent);
    expect(decodeHeaderValue(sent)).toBe(value);
  });

  it('booleans, integers and other numbers are converted to text first (SEP-2243 edge cases)', () => {
    expect([true, false, 42, -7, 3.14159].map(paramValueText)).toEqual([
      'true',
      'false',
      '42',
      '-7',
      '3.14159',
    ]);
    expect([null, undefined, {}, ['a'], Number.NaN].map(paramValueText)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it.each([
    // SEP-2243 "Base64 Decoding".
    ['valid base64', '=?base64?SGVsbG8=?=', 'Hello'],
    ['invalid padding', '=?base64?SGVsbG8?=', undefined],
    ['invalid characters', '=?base64?SGVs!!!bG8=?=', undefined],
    ['missing prefix: literal', 'SGVsbG8=', 'SGVsbG8='],
    ['missing suffix: literal', '=?base64?SGVsbG8=', '=?base64?SGVsbG8='],
    ['non-lowercase prefix: literal', '=?BASE64?SGVsbG8=?=', '=?BASE64?SGVsbG8=?='],
    // HTTP trims optional whitespace; field values are visible ASCII, space and tab only.
    ['surrounding whitespace', ' \tfoo \t', 'foo'],
    ['a byte outside ASCII', 'é', undefined],
    ['a control character', 'a\u0000b', undefined],
    ['base64 of bytes that are not UTF-8', '=?base64?/w==?=', undefined],
    ['whitespace inside the payload', '=?base64?SGVs bG8=?=', undefined],
  ])('decoding, %s', (_what, raw, value) => {
    expect(decodeHeaderValue(raw)).toBe(value);
  });
});

describe('x-mcp-header declarations (Schema Extension)', () => {
  it("reads the spec's example: Region on region", () => {
    const execSql = schema(
      { region: { ...str('Region'), description: 'The region' }, query: { type: 'string' } },
      { required: ['region', 'query'] },
    );
    expect(parseParamHeaders(execSql)).toEqual({
      params: [{ name: 'Region', header: 'Mcp-Param-Region', key: 'mcp-param-region', path: ['region'] }],
      invalid: undefined,
    });
  });

  it('follows nested properties: every step a properties key (statically reachable), in schema order', () => {
    const nested = schema({
      region: str('Region'),
      target: schema({
        zone: str('Zone'),
        deep: schema({ rack: { type: 'integer', 'x-mcp-header': 'Rack' } }),
      }),
      dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
      nullable: { type: ['string', 'null'], 'x-mcp-header': 'Maybe' },
      method: str('Method'), // allowed: Mcp-Param-Method is not Mcp-Method
    });
    const { params, invalid } = parseParamHeaders(nested);
    expect(invalid).toBeUndefined();
    expect(params.map((p) => [p.header, p.path.join('.')])).toEqual([
      ['Mcp-Param-Region', 'region'],
      ['Mcp-Param-Zone', 'target.zone'],
      ['Mcp-Param-Rack', 'target.deep.rack'],
      ['Mcp-Param-Dry', 'dry'],
      ['Mcp-Param-Maybe', 'nullable'],
      ['Mcp-Param-Method', 'method'],
    ]);
  });

  it('a schema without declarations declares none and is valid', () => {
    for (const s of [undefined, null, {}, { type: 'object' }, schema({ a: { type: 'string' } }), true])
      expect(parseParamHeaders(s)).toEqual({ params: [], invalid: undefined });
  });

  it.each([
    // SEP-2243 "x-mcp-header Name Conflicts" and "Invalid x-mcp-header Values".
    ['duplicate names', schema({ a: str('Region'), b: str('Region') }), /declared twice/],
    ['duplicate names, other case', schema({ a: str('Region'), b: str('REGION') }), /declared twice/],
    [
      'a duplicate across nesting',
      schema({ a: str('Zone'), t: schema({ z: str('zone') }) }),
      /declared twice/,
    ],
    ['an empty name', schema({ a: str('') }), /empty/],
    ['a name that is not a string', schema({ a: { type: 'string', 'x-mcp-header': 1 } }), /not a string/],
    ['a space', schema({ a: str('My Region') }), /token/],
    ['a colon', schema({ a: str('Region:Primary') }), /token/],
    ['non-ASCII', schema({ a: str('Région') }), /token/],
    ['a control character', schema({ a: str('Region\t1') }), /token/],
    ['CR LF', schema({ a: str('Region\r\nX-Evil: 1') }), /token/],
    // Type restrictions: primitive types only, and not number.
    ['type array', schema({ a: { type: 'array', 'x-mcp-header': 'A' } }), /type "array"/],
    ['type object', schema({ a: { type: 'object', 'x-mcp-header': 'A' } }), /type "object"/],
    ['type null', schema({ a: { type: 'null', 'x-mcp-header': 'A' } }), /type "null"/],
    ['type number', schema({ a: { type: 'number', 'x-mcp-header': 'A' } }), /type "number"/],
    ['no type', schema({ a: { 'x-mcp-header': 'A' } }), /type undefined/],
    [
      'a type list with an object',
      schema({ a: { type: ['string', 'object'], 'x-mcp-header': 'A' } }),
      /type/,
    ],
    // Not statically reachable.
    [
      'under items',
      schema({ l: { type: 'array', items: schema({ x: str('X') }) } }),
      /not on a property reached/,
    ],
    [
      'under prefixItems',
      schema({ l: { type: 'array', prefixItems: [str('X')] } }),
      /not on a property reached/,
    ],
    ['in oneOf', schema({ a: { oneOf: [str('A'), { type: 'integer' }] } }), /not on a property reached/],
    ['in anyOf', { type: 'object', anyOf: [schema({ a: str('A') })] }, /not on a property reached/],
    ['in allOf', { type: 'object', allOf: [schema({ a: str('A') })] }, /not on a property reached/],
    ['in not', schema({ a: { type: 'string', not: str('A') } }), /not on a property reached/],
    ['in then', { type: 'object', if: {}, then: schema({ a: str('A') }) }, /not on a property reached/],
    [
      'behind $ref',
      schema({ a: { $ref: '#/$defs/region' } }, { $defs: { region: str('Region') } }),
      /not on a property reached/,
    ],
    [
      'in additionalProperties',
      { type: 'object', additionalProperties: str('A') },
      /not on a property reached/,
    ],
    [
      'in patternProperties',
      { type: 'object', patternProperties: { '^a': str('A') } },
      /not on a property reached/,
    ],
    ['on the root', { type: 'object', 'x-mcp-header': 'Root' }, /schema root/],
  ])('invalid: %s', (_what, inputSchema, reason) => {
    expect(parseParamHeaders(inputSchema).invalid).toMatch(reason);
  });

  it('keeps the usable declarations of an invalid schema (what a server may still check)', () => {
    const s = schema({
      region: str('Region'),
      again: str('region'),
      bad: str('not a token'),
      count: { type: 'number', 'x-mcp-header': 'Count' },
      list: { type: 'array', items: schema({ x: str('X') }) },
    });
    const { params, invalid } = parseParamHeaders(s);
    expect(invalid).toMatch(/declared twice/);
    expect(params.map((p) => p.name)).toEqual(['Region', 'Count']);
  });

  it('data is no annotation: a property named x-mcp-header, default and const values, unknown keywords', () => {
    const s = schema({
      'x-mcp-header': { type: 'string' },
      a: { type: 'object', default: { 'x-mcp-header': 'A' }, const: { 'x-mcp-header': 'B' } },
      b: { type: 'string', 'x-vendor': { 'x-mcp-header': 'C' } },
    });
    expect(parseParamHeaders(s)).toEqual({ params: [], invalid: undefined });
  });

  it('a schema nested deeper than 64 levels is invalid (and read without recursing further)', () => {
    let deep: Record<string, unknown> = str('Deep');
    for (let i = 0; i < 100; i++) deep = schema({ n: deep });
    expect(parseParamHeaders(deep).invalid).toMatch(/deeper than 64/);
  });
});

describe('Mcp-Param-* headers of a call (Client Behavior, Server Behavior)', () => {
  const { params } = parseParamHeaders(
    schema({
      region: str('Region'),
      target: schema({ zone: str('Zone') }),
      count: { type: 'integer', 'x-mcp-header': 'Count' },
      dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
    }),
  );

  it('mirrors each declared argument with a value, nested ones included, lower-case names, values encoded', () => {
    expect(
      paramHeaderValues(params, {
        region: 'Zürich',
        target: { zone: 'z' },
        count: 42,
        dry: false,
        query: 'q',
      }),
    ).toEqual({
      'mcp-param-region': '=?base64?WsO8cmljaA==?=',
      'mcp-param-zone': 'z',
      'mcp-param-count': '42',
      'mcp-param-dry': 'false',
    });
  });

  it('omits the header of an argument that is null or absent (its parent too), or not a primitive', () => {
    expect(paramHeaderValues(params, { region: null, count: 1 })).toEqual({ 'mcp-param-count': '1' });
    expect(paramHeaderValues(params, { target: null, dry: true })).toEqual({ 'mcp-param-dry': 'true' });
    expect(paramHeaderValues(params, { region: ['eu'], target: { zone: {} } })).toBeUndefined();
    expect(paramHeaderValues(params, undefined)).toBeUndefined();
    expect(argumentAt(Object.create({ region: 'inherited' }), ['region'])).toBeUndefined();
  });

  it('a header mirrors an argument once decoded: text for strings and booleans, numerically for numbers', () => {
    expect(headerMirrors('=?base64?WsO8cmljaA==?=', 'Zürich')).toBe(true);
    expect(headerMirrors(' eu ', 'eu')).toBe(true);
    expect(headerMirrors('42.0', 42)).toBe(true);
    expect(headerMirrors('-7', -7)).toBe(true);
    expect(headerMirrors('1e+21', 1e21)).toBe(true);
    expect(headerMirrors('true', true)).toBe(true);
    expect(headerMirrors('false', false)).toBe(true);
    for (const [raw, value] of [
      ['us', 'eu'],
      ['8', 7],
      ['0x2a', 42],
      ['', 0],
      ['1', true],
      ['True', true],
      ['42', '42.0'],
      ['=?base64?ZXU?=', 'eu'],
      ['é', 'é'],
    ] as const)
      expect(headerMirrors(raw, value), `${raw} vs ${String(value)}`).toBe(false);
  });

  it('every value a client sends mirrors the argument it came from', () => {
    const values = [
      '',
      ' ',
      'a b',
      '=?base64??=',
      '\u0000',
      '😀 x',
      'tab\t',
      0,
      -1.5,
      2 ** 53,
      1e-7,
      true,
      false,
    ];
    for (const v of values)
      expect(headerMirrors(encodeHeaderValue(paramValueText(v)!), v), String(v)).toBe(true);
  });
});
