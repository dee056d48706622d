/**
 * The bridge's re-initialize after a 404 (the server lost the session), MCP
 * 2025 path: bounded by the request deadline (`--request-timeout`), with the
 * same deadline error as any other request; time in an OAuth sign-in during
 * it does not count.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllSpawned, waitFor } from '@mcp-gateway/testkit';
import { createAuthFetch, withRequestDeadline } from '../src/index.js';
import { runBridge, HOST_INIT } from './helpers/bridge-run.js';
import { rpc, spawnClient } from './helpers/cli.js';
import { slowLaterSignIns } from './helpers/flow.js';
import { startScriptedServer } from './helpers/scripted-server.js';
import { startSdkOAuthServer } from './helpers/sdk-oauth-server.js';

const closers: Array<() => Promise<unknown>> = [];
let home: string | undefined;
afterEach(async () => {
  await killAllSpawned();
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(async () => {
  if (home) await fs.rm(home, { recursive: true, force: true });
});

describe('bridge (2025): the re-initialize after a lost session (404) and the request deadline', () => {
  it('a re-initialize that needs a sign-in slower than the deadline succeeds: the sign-in is not timed', async () => {
    const s = await startSdkOAuthServer();
    closers.push(() => s.close());
    // The user signs in at once the first time, and takes 2.5 s (past the 1 s deadline) after that.
    const { session, signIns } = slowLaterSignIns(s.mcpUrl, 2500);
    const b = runBridge({
      url: new URL(s.mcpUrl),
      // As the CLI builds it: the deadline times each HTTP request below the OAuth layer.
      fetch: createAuthFetch({ session, fetch: withRequestDeadline((input, init) => fetch(input, init)) }),
      protocol: '2025-11-25',
      requestTimeoutMs: 1000,
      // Its default is requestTimeoutMs; set here too, as it used to be a timer of its own (30 s).
      reinitializeTimeoutMs: 1000,
    });
    closers.unshift(() => b.stop());
    expect(await b.request(0, 'initialize', HOST_INIT)).toHaveProperty('result.protocolVersion');
    b.send({ method: 'notifications/initialized' });
    await waitFor(() => s.endpoint.seen.some((r) => r.rpcMethod === 'notifications/initialized'));

    // The server restarts: the session is gone (404), and the replayed initialize needs a new sign-in.
    s.endpoint.dropSessions();
    s.revokeAtNextInitialize();
    const answer = await b.request(1, 'tools/call', {
      name: 'echo',
      arguments: { message: 'after the sign-in' },
    });
    expect(answer, JSON.stringify(answer)).toHaveProperty('result.content', [
      { type: 'text', text: 'after the sign-in' },
    ]);
    expect(signIns).toHaveLength(2);
    expect(s.endpoint.seen.filter((r) => r.rpcMethod === 'initialize')).toHaveLength(2);
    expect(b.messages().filter((m) => m.id === 0 || m.id === 1)).toHaveLength(2);
  });

  it('a server that never answers the replayed initialize: the request fails after --request-timeout with the deadline error', async () => {
    let initializes = 0;
    const s = await startScriptedServer('legacy', (method) => {
      if (method === 'initialize') return ++initializes === 1 ? 'answer' : 'silent-stream';
      if (method === 'tools/call')
        return {
          reply: () =>
            Response.json(
              { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } },
              { status: 404 },
            ),
        };
      return 'answer';
    });
    closers.push(() => s.close());
    home ??= await fs.mkdtemp(path.join(os.tmpdir(), 'mcp-client-reinit-'));
    const p = spawnClient(['--url', s.mcpUrl, '--protocol', '2025-11-25', '--request-timeout', '1'], {
      MCP_STREAMABLEHTTP_CLIENT_HOME: home,
    });
    expect(await rpc(p, { id: 0, method: 'initialize', params: HOST_INIT })).toHaveProperty('result');
    p.writeLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

    const sent = Date.now();
    const answer = await rpc(
      p,
      { id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } },
      10_000,
    );
    const ms = Date.now() - sent;
    expect(answer.error).toEqual({
      code: -32000,
      message: `${s.mcpUrl} did not answer the replayed initialize within 1 s (request deadline; see --request-timeout)`,
      data: { kind: 'network', code: 'timeout' },
    });
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(5000);
    expect(s.received.filter((m) => m === 'initialize')).toHaveLength(2);
    p.child.stdin.end();
    expect((await p.exited).code).toBe(0);
  });
});
