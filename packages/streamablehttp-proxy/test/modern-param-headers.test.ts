import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startBridge } from './helpers.js';
import { call2026 } from './modern-helpers.js';

// 2026-07-28 SEP-2243 custom headers: the fixture's `route` tool marks `region`, `shard`, `dry` and
// `target.zone` with `x-mcp-header` (Region, Shard, Dry, Zone). The bridge reads its child's tool
// list and checks every Mcp-Param-* header against the arguments before the call reaches the child
// (streamable-http "Server Behavior for Custom Headers"), and decodes mirrored values strictly
// ("Value Encoding": lower-case sentinel, visible ASCII only).

afterEach(closeAll);

const b64 = (s: string) => `=?base64?${Buffer.from(s).toString('base64')}?=`;

/** A `route` call with `args` and `headers`; the echoed arguments when it succeeds. */
async function route(
  url: string,
  args: Record<string, unknown>,
  headers: Record<string, string | null> = {},
) {
  const r = await call2026(url, 'tools/call', { name: 'route', arguments: args }, headers);
  const text = r.body.result?.content?.[0]?.text;
  return { ...r, echoed: text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

describe('Mcp-Param-* headers (SEP-2243)', () => {
  it('headers matching the declared arguments are required: with them the call is served (plain, base64, integer, boolean forms; absent arguments need none), without them it is 400 -32020', async () => {
    const b = await startBridge();
    const args = { region: 'Hello, 世界', shard: 42, dry: true, target: { zone: 'z1' }, query: 'q' };
    const headers = {
      'mcp-param-region': b64('Hello, 世界'),
      'mcp-param-shard': '42.0',
      'Mcp-Param-Dry': 'true',
      'mcp-param-zone': 'z1',
    };
    const r = await route(b.mcpUrl, args, headers);
    expect(r.status).toBe(200);
    expect(r.echoed).toEqual(args);
    const few = await route(b.mcpUrl, { region: 'eu' }, { 'mcp-param-region': 'eu' });
    expect(few.echoed).toEqual({ region: 'eu' });
    const none = await route(b.mcpUrl, args, { 'mcp-param-region': b64('Hello, 世界') });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({
      code: -32020,
      message: expect.stringMatching(/Mcp-Param-Shard/),
    });
  });

  it.each([
    ['the header of a set argument is missing', { region: 'eu' }, {}],
    ['a header unlike its argument', { region: 'eu' }, { 'mcp-param-region': 'us' }],
    [
      'an integer unlike its argument',
      { region: 'eu', shard: 7 },
      { 'mcp-param-region': 'eu', 'mcp-param-shard': '8' },
    ],
    [
      'a boolean not written true/false',
      { region: 'eu', dry: false },
      { 'mcp-param-region': 'eu', 'mcp-param-dry': '0' },
    ],
    [
      'a nested argument without its header',
      { region: 'eu', target: { zone: 'z' } },
      { 'mcp-param-region': 'eu' },
    ],
    [
      'an upper-case sentinel (taken literally)',
      { region: 'eu' },
      { 'mcp-param-region': `=?BASE64?${Buffer.from('eu').toString('base64')}?=` },
    ],
    [
      'a sentinel whose Base64 lacks its padding',
      { region: 'Hello' },
      { 'mcp-param-region': '=?base64?SGVsbG8?=' },
    ],
    [
      'a sentinel whose payload is not base64',
      { region: '=?base64?*?=' },
      { 'mcp-param-region': '=?base64?*?=' },
    ],
    [
      'a header for an absent argument',
      { region: 'eu' },
      { 'mcp-param-region': 'eu', 'mcp-param-shard': '7' },
    ],
    [
      'a header for a null argument',
      { region: 'eu', dry: null },
      { 'mcp-param-region': 'eu', 'mcp-param-dry': 'false' },
    ],
    [
      'a header for an absent nested argument',
      { region: 'eu', target: {} },
      { 'mcp-param-region': 'eu', 'mcp-param-zone': 'z1' },
    ],
    [
      'a malformed sentinel for an absent argument',
      { region: 'eu' },
      { 'mcp-param-region': 'eu', 'mcp-param-shard': '=?base64?*?=' },
    ],
    [
      'an empty header for an absent argument',
      { region: 'eu' },
      { 'mcp-param-region': 'eu', 'mcp-param-dry': '' },
    ],
  ])('%s: 400 -32020', async (_what, args, headers) => {
    const b = await startBridge();
    const r = await route(b.mcpUrl, args, headers);
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32020);
    expect(r.body.error?.message).toMatch(/Mcp-Param-/);
    expect(r.body.id).not.toBeNull();
  });

  it('a header value with a byte outside visible ASCII is refused even when it reads like the argument', async () => {
    const b = await startBridge();
    // Sent raw, "é" arrives as the Latin-1 byte 0xE9, which Node reads back as "é": equal to the body, yet invalid.
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'route',
        arguments: { region: 'é' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    });
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        b.mcpUrl,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'route',
            'mcp-param-region': 'é',
          },
        },
        (res) => {
          let t = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (t += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(400);
    expect((JSON.parse(text) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it('the declarations follow the child’s tool list: a tool added at run time (list_changed) is checked too', async () => {
    const b = await startBridge();
    // The first call makes the bridge read the child's declarations.
    expect((await route(b.mcpUrl, { region: 'eu' }, { 'mcp-param-region': 'eu' })).status).toBe(200);
    const added = await call2026(b.mcpUrl, 'tools/call', {
      name: 'change-list',
      arguments: { kind: 'header-tool' },
    });
    const name = added.body.result?.content?.[0]?.text as string;
    expect(name).toMatch(/^added-header-tool-/);
    const missing = await call2026(b.mcpUrl, 'tools/call', { name, arguments: { key: 'k' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe(-32020);
    const sent = await call2026(
      b.mcpUrl,
      'tools/call',
      { name, arguments: { key: 'k' } },
      { 'mcp-param-key': 'k' },
    );
    expect(sent.body.result?.content?.[0]?.text).toBe(name);
    expect(b.bridge.stats().modernChildren).toBe(1);
  });
});
