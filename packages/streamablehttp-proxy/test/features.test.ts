import { waitFor } from '@mcp-gateway/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  POST_HEADERS,
  closeAll,
  connectClient,
  initializeBody,
  rawSession,
  startBridge,
  textOf,
} from './helpers.js';

afterAll(closeAll);

/**
 * A fetch for the SDK client that drops the connection of the first POST
 * calling the `slow` tool right after its first progress event, the way a
 * flaky network would. Records the Last-Event-ID of every GET.
 */
function flakyFetch() {
  const resumes: string[] = [];
  let cut = false;
  const f: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if ((init?.method ?? 'GET') === 'GET' && headers.get('last-event-id'))
      resumes.push(headers.get('last-event-id')!);
    const res = await fetch(input, init);
    if (
      cut ||
      init?.method !== 'POST' ||
      !(typeof init.body === 'string' && init.body.includes('"name":"slow"')) ||
      !res.body
    )
      return res;
    cut = true;
    const reader = res.body.getReader();
    let seen = '';
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        seen += new TextDecoder().decode(value);
        if (seen.includes('notifications/progress')) {
          await reader.cancel();
          controller.error(new Error('network dropped'));
        }
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch: f, resumes };
}

describe('resumability', () => {
  it('resumability: an SDK client whose stream drops reconnects with Last-Event-ID and misses nothing', async () => {
    const b = await startBridge();
    const flaky = flakyFetch();
    const { client } = await connectClient(b.mcpUrl, { fetch: flaky.fetch });
    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: { ms: 600, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(result)).toBe('slept 600ms');
    expect(flaky.resumes.length).toBe(1);
    expect(flaky.resumes[0]).toMatch(/^\d+-1$/);
    await waitFor(() => progress.length === 3);
    expect(progress).toEqual([1, 2, 3]);
    await client.close();
  });

  it('resumability: GET with Last-Event-ID replays the rest of a request stream, then ends it', async () => {
    const b = await startBridge();
    const sid = await rawSession(b.mcpUrl);
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300, steps: 3 }, _meta: { progressToken: 'p' } },
      }),
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"progress":1')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const firstId = /id: (\d+-1)\n/.exec(text)![1]!;
    expect(text).toMatch(/^id: \d+-0\nretry: 1000\ndata: \n\n/);
    const resumed = await fetch(b.mcpUrl, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': firstId },
    });
    expect(resumed.status).toBe(200);
    const rest = await resumed.text();
    const ids = [...rest.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    const stream = firstId.split('-')[0];
    expect(ids).toEqual([`${stream}-2`, `${stream}-3`, `${stream}-4`]);
    expect(rest).toContain('"progress":2');
    expect(rest).toMatch(/slept 300ms.*"id":7/);
    // A malformed cursor is refused.
    const bad = await fetch(b.mcpUrl, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': 'nope' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: -32000, message: 'Bad Request: malformed Last-Event-ID' },
    });
  });

  it('resumability: the event store keeps at most maxEvents per session', async () => {
    const b = await startBridge({ eventStore: { maxEvents: 3 } });
    const sid = await rawSession(b.mcpUrl);
    for (let i = 0; i < 5; i++) {
      const r = await fetch(b.mcpUrl, {
        method: 'POST',
        headers: { ...POST_HEADERS, 'mcp-session-id': sid },
        body: JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'tools/list' }),
      });
      await r.text();
    }
    // The oldest request streams are gone: replaying the first yields nothing.
    const first = await fetch(b.mcpUrl, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': '1-0' },
    });
    expect(await first.text()).toBe('');
  });
});

describe('gateway features', () => {
  it('env: allow-listed request headers become the child environment of that session only', async () => {
    const b = await startBridge({ envFromHeaders: { 'X-Github-Token': 'GITHUB_TOKEN' }, poolSize: 1 });
    await waitFor(() => b.bridge.stats().pooled === 1);
    const withToken = await connectClient(b.mcpUrl, {
      headers: { 'x-github-token': 'tok-123', 'x-other': 'no' },
    });
    const env = (c: Awaited<ReturnType<typeof connectClient>>) =>
      c.client
        .callTool({ name: 'env', arguments: { names: ['GITHUB_TOKEN', 'X_OTHER'] } })
        .then((r) => JSON.parse(textOf(r)));
    expect(await env(withToken)).toEqual({ GITHUB_TOKEN: 'tok-123', X_OTHER: null });
    const without = await connectClient(b.mcpUrl);
    expect(await env(without)).toEqual({ GITHUB_TOKEN: null, X_OTHER: null });
    await withToken.client.close();
    await without.client.close();
  });

  it('identity: a session answers only the identity that opened it; others get 404', async () => {
    const b = await startBridge({ identity: 'x-user' });
    const sid = await rawSession(b.mcpUrl, { 'x-user': 'alice' });
    const call = (user: string | undefined) =>
      fetch(b.mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'mcp-session-id': sid,
          ...(user ? { 'x-user': user } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: user ?? 'none', method: 'tools/list' }),
      });
    expect((await call('alice')).status).toBe(200);
    const bob = await call('bob');
    expect(bob.status).toBe(404);
    expect(await bob.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    expect((await call(undefined)).status).toBe(404);
    const del = await fetch(b.mcpUrl, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sid, 'x-user': 'bob' },
    });
    expect(del.status).toBe(404);
    expect(b.bridge.stats().sessions).toBe(1);
  });

  it('ops: /healthz, /readyz and /metrics', async () => {
    const b = await startBridge({ maxSessions: 1 });
    expect(await (await fetch(`${b.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
    const sid = await rawSession(b.mcpUrl);
    // Full: no child can be spawned now.
    const full = await fetch(`${b.url}/readyz`);
    expect(full.status).toBe(503);
    expect(await full.json()).toEqual({ status: 'unavailable' });
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('# TYPE mcp_bridge_sessions gauge\nmcp_bridge_sessions 1\n');
    expect(metrics).toContain('mcp_bridge_child_spawns_total 1\n');
    expect(metrics).toContain('mcp_bridge_sessions_opened_total 1\n');
    expect(metrics).toMatch(/mcp_bridge_http_requests_total\{method="POST",status="200"\} 1\n/);
    expect(metrics).toMatch(/mcp_bridge_http_requests_total\{method="POST",status="202"\} 1\n/);
    expect(metrics).toContain('mcp_bridge_request_duration_seconds_count 1\n');
    expect(metrics).toContain('mcp_bridge_request_duration_seconds_bucket{le="+Inf"} 1\n');
    await fetch(b.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    await waitFor(async () => (await fetch(`${b.url}/readyz`)).status === 200);
  });

  it('ops: /readyz answers 503 when the command cannot be found', async () => {
    const b = await startBridge({ command: 'definitely-not-a-command-xyz', args: [] });
    expect((await fetch(`${b.url}/readyz`)).status).toBe(503);
    const res = await fetch(b.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: initializeBody(),
    });
    expect(await res.json()).toMatchObject({
      id: 1,
      error: {
        code: -32000,
        message: expect.stringMatching(
          /MCP server process exited \(failed to start: spawn definitely-not-a-command-xyz ENOENT\)/,
        ),
      },
    });
  });
});
