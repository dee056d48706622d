// SEP-2243 `Mcp-Param-*` headers of a federated member's tool call: which `x-mcp-header`
// declarations count, and how values are encoded (the spec's encoding table).
import { describe, expect, it } from 'vitest';
import { headerValue, paramHeadersOf, paramHeaderValues } from '../src/federation/param-headers.js';

const b64 = (s: string) => `=?base64?${Buffer.from(s).toString('base64')}?=`;

describe('Mcp-Param-* headers of a member tool call', () => {
  it("encodes as the spec's table: plain ASCII as is, else Base64 (non-ASCII, edge spaces, newline, sentinel look-alike)", () => {
    expect(headerValue('us-west1')).toBe('us-west1');
    expect(headerValue('Hello, 世界')).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(headerValue(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(headerValue('line1\nline2')).toBe('=?base64?bGluZTEKbGluZTI=?=');
    expect(headerValue('=?base64?literal?=')).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
  });

  it('reads declarations on properties chains only; mirrors strings, safe integers and booleans present in the arguments', () => {
    const schema = {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        opts: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
        count: { type: 'integer', 'x-mcp-header': 'Count' },
        dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
        list: { type: 'array', items: { type: 'object', properties: { x: { 'x-mcp-header': 'X' } } } },
        bad: { type: 'string', 'x-mcp-header': 'not a token' },
      },
    };
    const declared = paramHeadersOf(schema);
    expect(declared.map((d) => d.name)).toEqual(['Region', 'Zone', 'Count', 'Dry']);
    const args = { region: 'é', opts: { zone: 'a' }, count: 42, dry: false, list: [{ x: 'y' }] };
    expect(paramHeaderValues(declared, args)).toEqual({
      'mcp-param-region': b64('é'),
      'mcp-param-zone': 'a',
      'mcp-param-count': '42',
      'mcp-param-dry': 'false',
    });
    expect(paramHeaderValues(declared, { region: null, count: 1.5 })).toBeUndefined();
  });
});
