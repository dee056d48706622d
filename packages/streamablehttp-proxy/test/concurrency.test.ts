import { afterAll, describe, expect, it } from 'vitest';
import { closeAll, connectClient, rawSession, startBridge, textOf } from './helpers.js';

afterAll(closeAll);

/** Runs `tasks` with at most `limit` on the wire at once (one test process cannot hold 10k sockets). */
async function limited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

describe('isolation under load', () => {
  it('routing: 50 sessions x 200 concurrent calls, every answer reaches its own caller', async () => {
    const b = await startBridge({ maxSessions: 60, logLevel: 'warn' });
    const sessions = await limited(
      Array.from({ length: 50 }, () => () => rawSession(b.mcpUrl)),
      10,
    );
    expect(new Set(sessions).size).toBe(50);
    // Every session has 200 calls in flight in its child at once (ids collide across sessions on purpose).
    const tasks = sessions.flatMap((sid, s) =>
      Array.from({ length: 200 }, (_, i) => async () => {
        const text = `s${s}-c${i}`;
        const res = await fetch(b.mcpUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sid },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: i,
            method: 'tools/call',
            params: { name: 'echo', arguments: { text } },
          }),
        });
        const body = (await res.json()) as { id: number; result: { content: { text: string }[] } };
        const got = `${res.headers.get('mcp-session-id') === sid ? 'same' : 'other'} ${body.id} ${body.result.content[0]!.text}`;
        return got === `same ${i} ${text}` ? '' : `${text}: ${got}`;
      }),
    );
    const mismatches = (await limited(tasks, 400)).filter(Boolean);
    expect(mismatches).toEqual([]);
    expect(b.bridge.stats()).toMatchObject({ sessions: 50, crashes: 0 });
    expect(b.bridge.stats().requests).toBe(50 * 201);
  }, 120_000);

  it('routing: SDK clients in 5 sessions with 40 concurrent calls each get only their own answers', async () => {
    const b = await startBridge();
    const clients = await Promise.all(Array.from({ length: 5 }, () => connectClient(b.mcpUrl)));
    const pids = await Promise.all(
      clients.map(async ({ client }) =>
        Number(textOf(await client.callTool({ name: 'pid', arguments: {} }))),
      ),
    );
    expect(new Set(pids).size).toBe(5);
    const mismatches: string[] = [];
    await Promise.all(
      clients.flatMap(({ client }, s) =>
        Array.from({ length: 40 }, (_, i) =>
          client.callTool({ name: 'echo', arguments: { text: `s${s}-c${i}` } }).then((r) => {
            if (textOf(r) !== `s${s}-c${i}`) mismatches.push(`s${s}-c${i} got ${textOf(r)}`);
          }),
        ),
      ),
    );
    expect(mismatches).toEqual([]);
    await Promise.all(clients.map(({ client }) => client.close()));
  });
});
