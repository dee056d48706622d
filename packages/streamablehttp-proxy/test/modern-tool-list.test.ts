import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@mcp-gateway/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, manualClock, startBridge } from './helpers.js';
import { call2026, send2026 } from './modern-helpers.js';

// How the bridge learns a 2026 child's x-mcp-header declarations (SEP-2243): it reads the child's
// tool list right after the child's initialize, off the request path. A tools/call waits for that
// first read (no longer than the read's own deadline, the call's deadline and its client), and goes
// unchecked while the list cannot be read; a late list is kept; a failed read is tried again after
// a back-off. The fixture child delays or fails tools/list on request (FIXTURE_TOOLS_LIST) and
// writes `tools/list requested` to stderr for each, which the bridge logs: the tests count them.

const dirs: string[] = [];

afterEach(async () => {
  await closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Bridge = Awaited<ReturnType<typeof startBridge>>;

/** A path the fixture's `hold:` mode waits for: tools/list is answered once the file exists. */
function gatePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tool-list-'));
  dirs.push(dir);
  return join(dir, 'release');
}

/** Lines the bridge's 2026 children wrote to stderr. */
const stderrLines = (b: Bridge) =>
  b.logs
    .find('child stderr')
    .filter((l) => l.modern === true)
    .map((l) => String(l.line));

/** `tools/list` requests the 2026 children got. */
const lists = (b: Bridge) => stderrLines(b).filter((l) => l === 'tools/list requested').length;

/** Waits until the child's stderr has caught up to now (it writes `mark`), then counts its tools/list requests. */
async function settledLists(b: Bridge, mark: string): Promise<number> {
  await call2026(b.mcpUrl, 'tools/call', { name: 'stderr', arguments: { text: mark } });
  await waitFor(() => stderrLines(b).includes(mark));
  return lists(b);
}

/** A call of the fixture's `route` tool (its `region` argument is declared `x-mcp-header: Region`). */
const route = (b: Bridge, header: string) =>
  call2026(
    b.mcpUrl,
    'tools/call',
    { name: 'route', arguments: { region: 'eu' } },
    { 'mcp-param-region': header },
  );

const withFixture = (env: Record<string, string>) => ({ env: { ...process.env, ...env } });

describe('2026 tools/call: reading the child’s tool list', () => {
  it('a child that lists its tools late: calls wait only until the read’s deadline, then go unchecked; the late list is kept (one tools/list in all)', async () => {
    const gate = gatePath();
    const clock = manualClock();
    const b = await startBridge({
      clock,
      initializeTimeoutMs: 10_000,
      ...withFixture({ FIXTURE_TOOLS_LIST: `hold:${gate}` }),
    });
    const first = route(b, 'eu');
    // The read began with the child (before the call was forwarded).
    await waitFor(() => lists(b) === 1);
    // Past the read's deadline (the bridge's clock), the waiting call is forwarded unchecked.
    clock.advance(10_000);
    const r1 = await first;
    expect(r1.status).toBe(200);
    expect(
      b.logs.find('modern child did not list its tools in time: tools/call goes unchecked'),
    ).toHaveLength(1);
    // Until the list is known, a mismatching header is not caught (the 2025 child never sees headers).
    expect((await route(b, 'us')).status).toBe(200);
    // The late answer fills the cache: from then on headers are checked.
    writeFileSync(gate, '');
    await waitFor(() => b.logs.find('modern child listed its tools').length === 1);
    const refused = await route(b, 'us');
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe(-32020);
    expect((await route(b, 'eu')).status).toBe(200);
    expect(await settledLists(b, 'mark-late')).toBe(1);
    expect(b.bridge.stats().modernChildren).toBe(1);
  });

  it('a child whose tools/list fails: calls are forwarded unchecked, and the read is tried again only after a back-off that doubles', async () => {
    const clock = manualClock();
    const b = await startBridge({ clock, ...withFixture({ FIXTURE_TOOLS_LIST: 'fail:2' }) });
    const failedReads = () =>
      b.logs.find('modern child could not list its tools: tools/call goes unchecked').length;
    // The first read (after initialize) fails: the call that waited for it goes on unchecked.
    expect((await route(b, 'us')).status).toBe(200);
    // Within the back-off (1 s) no read is tried.
    clock.advance(999);
    expect((await route(b, 'us')).status).toBe(200);
    expect((await route(b, 'us')).status).toBe(200);
    expect(await settledLists(b, 'mark-1')).toBe(1);
    // After it, a call starts the next read (without waiting for it); it fails too: 2 s now.
    clock.advance(1);
    expect((await route(b, 'us')).status).toBe(200);
    expect(await settledLists(b, 'mark-2')).toBe(2);
    await waitFor(() => failedReads() === 2);
    clock.advance(1_999);
    expect((await route(b, 'us')).status).toBe(200);
    expect(await settledLists(b, 'mark-3')).toBe(2);
    clock.advance(1);
    expect((await route(b, 'us')).status).toBe(200);
    // The third read succeeds: headers are checked from then on.
    await waitFor(() => b.logs.find('modern child listed its tools').length === 1);
    const refused = await route(b, 'us');
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe(-32020);
    expect(await settledLists(b, 'mark-4')).toBe(3);
    expect(failedReads()).toBe(2);
  });

  it('a child without the tools capability is never asked for its list; its tools/call is forwarded', async () => {
    const b = await startBridge(withFixture({ FIXTURE_NO_TOOLS_CAPABILITY: '1' }));
    const d = await call2026(b.mcpUrl, 'server/discover');
    expect(d.body.result?.capabilities).not.toHaveProperty('tools');
    const r = await route(b, 'us');
    expect(r.status).toBe(200);
    expect(r.body.result?.content?.[0]?.text).toBe('{"region":"eu"}');
    expect(await settledLists(b, 'mark')).toBe(0);
  });

  it('a call whose client leaves while it waits for the list gives its child back at once', async () => {
    const clock = manualClock();
    const b = await startBridge({
      clock,
      ...withFixture({ FIXTURE_TOOLS_LIST: `hold:${gatePath()}` }),
      modern: { maxChildrenPerUser: 1, queueTimeoutMs: 5_000 },
    });
    const ac = new AbortController();
    const leaving = send2026(
      b.mcpUrl,
      'tools/call',
      { name: 'route', arguments: { region: 'eu' } },
      { 'mcp-param-region': 'eu' },
      { signal: ac.signal },
    );
    await waitFor(() => lists(b) === 1);
    ac.abort();
    await expect(leaving).rejects.toThrow();
    // The user's only child is free again: the next request gets it without queueing.
    const next = await call2026(b.mcpUrl, 'prompts/get', { name: 'greet', arguments: { name: 'Ada' } });
    expect(next.status).toBe(200);
    expect(b.bridge.stats().modernChildren).toBe(1);
    expect(b.bridge.stats().modernQueued).toBe(0);
  });

  it('a child that exits while a call waits for its list: the call gets -32603 at once, not its deadline', async () => {
    const b = await startBridge(withFixture({ FIXTURE_TOOLS_LIST: 'exit' }));
    const r = await route(b, 'eu');
    expect(r.status).toBe(200);
    expect(r.body.error).toMatchObject({ code: -32603, message: 'MCP server process exited' });
    await waitFor(() => b.bridge.stats().modernChildren === 0);
  });

  it('a call waits for the list no longer than its own deadline: -32603 timeout, and the child is kept', async () => {
    const clock = manualClock();
    const b = await startBridge({
      clock,
      requestTimeoutMs: 5_000,
      initializeTimeoutMs: 10_000,
      ...withFixture({ FIXTURE_TOOLS_LIST: `hold:${gatePath()}` }),
      modern: { maxChildrenPerUser: 1 },
    });
    const waiting = route(b, 'eu');
    await waitFor(() => lists(b) === 1);
    clock.advance(5_000);
    const r = await waiting;
    expect(r.status).toBe(200);
    expect(r.body.error).toMatchObject({ code: -32603, data: { reason: 'timeout' } });
    // The child never had the call: it serves the next request.
    const next = await call2026(b.mcpUrl, 'prompts/get', { name: 'greet', arguments: { name: 'Ada' } });
    expect(next.status).toBe(200);
    expect(b.bridge.stats().modernChildren).toBe(1);
  });
});
