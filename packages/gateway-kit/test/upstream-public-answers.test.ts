// The upstream answers a gateway may give any user (MCP 2026-07-28 server/utilities/caching:
// `cacheScope: "public"` results may be served by a shared gateway to any user), kept from what
// passes to connected users: which are kept, under which key, with how much freshness left, and
// within which bounds. The answers are real Response bodies, JSON and SSE, read as they stream by.
import { describe, expect, it } from 'vitest';
import { PublicAnswers } from '../src/upstream/public-answers.js';

const HOUR = 3_600_000;
const META = { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } };
const TOOLS = {
  resultType: 'complete',
  tools: [{ name: 'fetch', inputSchema: { type: 'object' } }],
  ttlMs: HOUR,
  cacheScope: 'public',
};

const json = (id: number | string, body: Record<string, unknown>, status = 200) =>
  Response.json({ jsonrpc: '2.0', id, ...body }, { status });

/** A clock that stands still: a kept answer's `ttlMs` is then exactly what it was sent with. */
const still = () => 1_000;

/** Passes `res` through `answers.watch` as the client would read it; returns the text the client got. */
async function through(answers: PublicAnswers, res: Response, key: string, id: number | string) {
  return answers.watch(res, key, id).text();
}

describe('PublicAnswers: what an upstream marked public is kept for users who have not connected', () => {
  it('keeps a complete public result of server/discover or a list, passing the body on unchanged; its ttlMs is the time it has left, 0 once stale', async () => {
    let now = 1_000;
    const answers = new PublicAnswers(() => now);
    const key = PublicAnswers.keyOf('tools/list', META)!;
    const sent = json(3, { result: TOOLS });
    const text = await sent.clone().text();
    expect(await through(answers, sent, key, 3)).toBe(text);
    expect(answers.get(key)).toEqual(TOOLS);
    now += HOUR - 5;
    expect(answers.get(key)?.ttlMs).toBe(5);
    now += 10;
    expect(answers.get(key)).toEqual({ ...TOOLS, ttlMs: 0 });
  });

  it('the key is the method and the params without _meta: another cursor, another method or a method never shared has none or another', () => {
    const key = PublicAnswers.keyOf('tools/list', META);
    expect(PublicAnswers.keyOf('tools/list', { _meta: { other: true } })).toBe(key);
    expect(PublicAnswers.keyOf('tools/list', { cursor: 'p2', ...META })).not.toBe(key);
    expect(PublicAnswers.keyOf('prompts/list', META)).not.toBe(key);
    for (const method of ['tools/call', 'resources/read', 'prompts/get', 'completion/complete']) {
      expect(PublicAnswers.keyOf(method, META)).toBeUndefined();
    }
  });

  it('reads an SSE answer too: the result of the request, not a notification before it nor another id', async () => {
    const answers = new PublicAnswers(still);
    const key = PublicAnswers.keyOf('server/discover', {})!;
    const discover = {
      resultType: 'complete',
      supportedVersions: ['2026-07-28'],
      capabilities: {},
      ttlMs: 60_000,
      cacheScope: 'public',
    };
    const events = [
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } },
      {
        jsonrpc: '2.0',
        id: 'other',
        result: { ...discover, cacheScope: 'public', instructions: 'not this' },
      },
      { jsonrpc: '2.0', id: 'd-1', result: discover },
    ];
    const body = events.map((e) => `event: message\ndata: ${JSON.stringify(e)}\n\n`).join('');
    const res = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    expect(await through(answers, res, key, 'd-1')).toBe(body);
    expect(answers.get(key)).toEqual(discover);
  });

  it('keeps nothing private, unhinted, input_required, failed or refused; a later answer that is not public forgets the kept one', async () => {
    const answers = new PublicAnswers(still);
    const key = PublicAnswers.keyOf('tools/list', {})!;
    for (const res of [
      json(1, { result: { ...TOOLS, cacheScope: 'private' } }),
      json(1, { result: { resultType: 'complete', tools: [] } }),
      json(1, { result: { ...TOOLS, ttlMs: -1 } }),
      json(1, { result: { ...TOOLS, resultType: 'input_required' } }),
      json(1, { error: { code: -32601, message: 'Method not found' } }),
      json(1, { result: TOOLS }, 502),
    ]) {
      await through(answers, res, key, 1);
      expect(answers.get(key)).toBeUndefined();
    }
    await through(answers, json(2, { result: TOOLS }), key, 2);
    expect(answers.get(key)).toBeDefined();
    // An error (this user's trouble) leaves it; a complete private answer withdraws it.
    await through(answers, json(3, { error: { code: -32603, message: 'boom' } }), key, 3);
    expect(answers.get(key)).toBeDefined();
    await through(answers, json(4, { result: { ...TOOLS, cacheScope: 'private' } }), key, 4);
    expect(answers.get(key)).toBeUndefined();
  });

  it('bounded per service: 32 results at most and 2 MiB of text, the oldest forgotten first; a larger one is not kept', async () => {
    const answers = new PublicAnswers(still);
    const keys = Array.from({ length: 33 }, (_, i) =>
      PublicAnswers.keyOf('tools/list', { cursor: `p${i}` })!,
    );
    for (const [i, key] of keys.entries()) await through(answers, json(i, { result: TOOLS }), key, i);
    expect(answers.get(keys[0]!)).toBeUndefined();
    expect(keys.slice(1).every((k) => answers.get(k) !== undefined)).toBe(true);
    // Two of 1.5 MiB do not fit together: the second makes room by forgetting the first and the oldest.
    const big = (n: number) => ({ ...TOOLS, tools: [{ name: 'x'.repeat(n) }] });
    const [a, b, c] = ['a', 'b', 'c'].map((cursor) => PublicAnswers.keyOf('prompts/list', { cursor })!);
    await through(answers, json('a', { result: big(1_500_000) }), a!, 'a');
    expect(answers.get(a!)).toBeDefined();
    await through(answers, json('b', { result: big(1_500_000) }), b!, 'b');
    expect([answers.get(a!), answers.get(b!) !== undefined]).toEqual([undefined, true]);
    await through(answers, json('c', { result: big(2_200_000) }), c!, 'c');
    expect([answers.get(c!), answers.get(b!) !== undefined]).toEqual([undefined, true]);
  });
});
