import { afterEach, describe, expect, it } from 'vitest';
import { SERVED_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from '../src/protocol-version.js';
import { closeAll, startBridge } from './helpers.js';
import { V2026, call2026, envelope, readSse, send2026 } from './modern-helpers.js';

// MCP 2026-07-28 rules the bridge follows beyond the envelope basics: elicitation modes, version
// lists, log levels, the base64 sentinel, graceful listen closure, and error codes outside the
// legacy -32000…-32019 range.

afterEach(closeAll);

const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SUB = 'io.modelcontextprotocol/subscriptionId';
const elicit = (caps: Record<string, unknown>) => ({
  name: 'elicit',
  arguments: { message: 'Who are you?' },
  _meta: envelope({ [CAPS]: caps }),
});

/** A POST as a 2026 client might send it before it knows the server, without the `_meta` envelope. */
function bare(
  url: string,
  headers: Record<string, string>,
  body: unknown = { jsonrpc: '2.0', id: 5, method: 'tools/list' },
) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('elicitation modes (client/elicitation, "Capabilities")', () => {
  it('a client declaring url mode only is never sent a form elicitation: 400 -32021 naming elicitation.form', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', elicit({ elicitation: { url: {} } }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { elicitation: { form: {} } } },
    });
    // Declaring form (explicitly, or with an empty object) gets the input_required as before.
    for (const caps of [{ elicitation: { form: {} } }, { elicitation: {} }]) {
      const ok = await call2026(b.mcpUrl, 'tools/call', elicit(caps));
      expect(ok.body.result?.resultType).toBe('input_required');
    }
  });
});

describe('protocol versions (basic/versioning)', () => {
  it('an unknown MCP-Protocol-Version without _meta or session is 400 -32022 listing every served version', async () => {
    const b = await startBridge();
    const res = await bare(b.mcpUrl, { 'mcp-protocol-version': '2099-01-01' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: 5,
      error: { code: -32022, data: { supported: [...SERVED_PROTOCOL_VERSIONS], requested: '2099-01-01' } },
    });
    // GET and DELETE without a session are refused the same way (no request id to echo).
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(b.mcpUrl, {
        method,
        headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2099-01-01' },
      });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({
        id: null,
        error: { code: -32022, data: { supported: [...SERVED_PROTOCOL_VERSIONS], requested: '2099-01-01' } },
      });
    }
    // A known 2025 version outside a session is still the session error.
    const legacy = await bare(b.mcpUrl, { 'mcp-protocol-version': '2025-11-25' });
    expect(legacy.status).toBe(400);
    expect(((await legacy.json()) as { error: { code: number } }).error.code).toBe(-32000);
  });

  it('with the 2026 side off, a 2026 header is a version the bridge does not serve: -32022 listing the 2025 ones', async () => {
    const b = await startBridge({ modern: false });
    const res = await bare(b.mcpUrl, { 'mcp-protocol-version': V2026 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: -32022, data: { supported: [...SUPPORTED_PROTOCOL_VERSIONS], requested: V2026 } },
    });
  });

  it('server/discover and -32022 list the 2025 revisions the bridge serves too', async () => {
    const b = await startBridge();
    const d = await call2026(b.mcpUrl, 'server/discover');
    expect(d.body.result?.supportedVersions).toEqual([
      V2026,
      '2025-11-25',
      '2025-06-18',
      '2025-03-26',
      '2024-11-05',
      '2024-10-07',
    ]);
    const r = await call2026(
      b.mcpUrl,
      'tools/list',
      { _meta: envelope({ 'io.modelcontextprotocol/protocolVersion': '1900-01-01' }) },
      { 'mcp-protocol-version': '1900-01-01' },
    );
    expect((r.body.error?.data as { supported: string[] }).supported).toContain('2025-11-25');
  });
});

describe('envelope details', () => {
  it('a _meta logLevel that is no MCP level is 400 -32602 (server/utilities/logging, "Error Handling")', async () => {
    const b = await startBridge();
    for (const level of ['verbose', 'INFO', 3]) {
      const r = await call2026(b.mcpUrl, 'tools/call', {
        name: 'echo',
        arguments: { text: 'x' },
        _meta: envelope({ 'io.modelcontextprotocol/logLevel': level }),
      });
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe(-32602);
    }
  });

  it('the base64 sentinel is case-sensitive: =?BASE64?…?= is a literal value, so Mcp-Name does not match', async () => {
    const b = await startBridge();
    const upper = `=?BASE64?${Buffer.from('echo').toString('base64')}?=`;
    const r = await call2026(
      b.mcpUrl,
      'tools/call',
      { name: 'echo', arguments: { text: 'x' } },
      { 'mcp-name': upper },
    );
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(-32020);
  });
});

describe('subscriptions/listen graceful closure (basic/patterns/subscriptions)', () => {
  it('a stream the bridge ends at shutdown gets the listen result (subscription id in _meta) before it closes', async () => {
    const b = await startBridge();
    const res = await send2026(
      b.mcpUrl,
      'subscriptions/listen',
      { notifications: { toolsListChanged: true } },
      { accept: 'text/event-stream' },
      { id: 'sub-9' },
    );
    let acked!: () => void;
    const ack = new Promise<void>((r) => (acked = r));
    const done = readSse(res, () => acked());
    await ack;
    await b.close();
    const msgs = await done;
    expect(msgs.at(-1)).toEqual({
      jsonrpc: '2.0',
      id: 'sub-9',
      result: { resultType: 'complete', _meta: { [SUB]: 'sub-9' } },
    });
  });
});

describe('error codes for 2026 clients (basic/index, "Error Codes")', () => {
  it('a child that exits mid-call: -32603, not -32000', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'tools/call', { name: 'crash', arguments: { code: 3 } });
    expect(r.body.error).toMatchObject({ code: -32603, message: 'MCP server process exited' });
  });

  it('a 2025 child’s resource-not-found -32002 reaches the 2026 client as -32602 (data kept)', async () => {
    const b = await startBridge();
    const r = await call2026(b.mcpUrl, 'resources/read', { uri: 'fixture://missing/x' });
    expect(r.body.error).toMatchObject({ code: -32602, data: { uri: 'fixture://missing/x' } });
  });

  it('other methods’ error codes pass unchanged: a tool’s own -32002 is not resource not found, and other legacy codes have no defined replacement', async () => {
    const b = await startBridge();
    for (const code of [-32002, -32001, -32000]) {
      const r = await call2026(b.mcpUrl, 'tools/call', { name: 'rpc-error', arguments: { code } });
      expect(r.status).toBe(200);
      expect(r.body.error).toMatchObject({ code, message: expect.stringMatching(/code of its own/) });
    }
  });

  it('a child’s error with a code 2026-07-28 defines gets the HTTP status that revision gives it (-32021: 400)', async () => {
    const b = await startBridge();
    for (const [code, status] of [
      [-32021, 400],
      [-32022, 400],
      [-32601, 404],
      [-32603, 200],
    ]) {
      const r = await call2026(b.mcpUrl, 'tools/call', { name: 'rpc-error', arguments: { code } });
      expect([r.status, r.body.error?.code], String(code)).toEqual([status, code]);
    }
  });

  it('transport refusals of 2026 requests: -32600 for 4xx, -32603 for 429/5xx; 2025 requests keep -32000', async () => {
    const b = await startBridge({ modern: { maxQueuedPerUser: 0, maxChildrenPerUser: 1 } });
    const wrongType = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', accept: 'application/json', 'mcp-protocol-version': V2026 },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    expect(((await wrongType.json()) as { error: { code: number } }).error.code).toBe(-32600);
    const listen = await call2026(b.mcpUrl, 'subscriptions/listen', {
      notifications: { toolsListChanged: true },
    });
    expect(listen.status).toBe(406);
    expect(listen.body.error?.code).toBe(-32600);
    // The user's one child is busy and nobody may queue: 429.
    const ac = new AbortController();
    const slow = send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'slow', arguments: { ms: 30_000 } },
      { accept: 'text/event-stream' },
      { signal: ac.signal },
    );
    const running = await slow;
    const busy = await call2026(b.mcpUrl, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    expect(busy.status).toBe(429);
    expect(busy.body.error?.code).toBe(-32603);
    ac.abort();
    await running.body?.cancel().catch(() => {});
    const legacy = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        accept: 'application/json',
        'mcp-protocol-version': '2025-11-25',
      },
      body: '{}',
    });
    expect(((await legacy.json()) as { error: { code: number } }).error.code).toBe(-32000);
  });
});
