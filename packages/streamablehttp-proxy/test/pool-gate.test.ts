import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { POST_HEADERS, closeAll, initializeBody, startBridge } from './helpers.js';

afterAll(closeAll);

/**
 * A stdio server that answers `ping` at once but holds its `initialize`
 * answer until the client sends the notification `test/release`.
 */
const HELD_INITIALIZE = `
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let held = null;
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const m = JSON.parse(l);
  if (m.method === 'ping') out({ jsonrpc: '2.0', id: m.id, result: {} });
  else if (m.method === 'initialize') held = m.id;
  else if (m.method === 'test/release' && held !== null) {
    out({ jsonrpc: '2.0', id: held, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'held', version: '1' } } });
    held = null;
  }
});
`;

describe('warm pool refill', () => {
  it('pool: no child is spawned while an initialize is pending; the refill follows its answer', async () => {
    const b = await startBridge({ command: process.execPath, args: ['-e', HELD_INITIALIZE], poolSize: 1 });
    await waitFor(() => b.bridge.stats().warm === 1);
    expect(b.bridge.stats().spawns).toBe(1);
    const init = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: POST_HEADERS,
      body: initializeBody(1, '2025-06-18'),
    });
    // SSE headers (with the session id) leave before the answer.
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    // The refill timer has fired and found the initialize in flight.
    await waitFor(() => b.logs.find('pool refill deferred: initialize pending').length > 0);
    expect(b.bridge.stats()).toMatchObject({ sessions: 1, pooled: 0, spawns: 1 });
    const spawnedBefore = b.logs.find('child spawned').length;
    const release = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'test/release' }),
    });
    expect(release.status).toBe(202);
    expect(await init.text()).toContain('"serverInfo":{"name":"held"');
    await waitFor(() => b.bridge.stats().pooled === 1);
    expect(b.bridge.stats().spawns).toBe(2);
    expect(b.logs.find('child spawned').length).toBe(spawnedBefore + 1);
  });
});
