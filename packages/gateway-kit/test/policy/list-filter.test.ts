import { describe, expect, it } from 'vitest';
import { rewriteResults, withRefusals } from '../../src/policy/list-filter.js';

const tools = (names: string[]) => ({ tools: names.map((name) => ({ name })) });
const onlyPublic = (result: unknown) => ({
  ...(result as object),
  tools: (result as { tools: Array<{ name: string }> }).tools.filter((t) => !t.name.startsWith('secret')),
});

/** A body that arrives in the given chunks, split anywhere (even inside a UTF-8 character). */
function chunked(parts: Uint8Array[], type: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
  return new Response(body, { headers: { 'content-type': type, 'content-length': '1' } });
}

function splitEvery(text: string, n: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += n) out.push(bytes.slice(i, i + n));
  return out;
}

describe('tools/list results on the way back', () => {
  it('a JSON answer: the watched response is rewritten, another one in the batch is left alone', async () => {
    const body = JSON.stringify([
      { jsonrpc: '2.0', id: 1, result: tools(['a', 'secret-b']) },
      { jsonrpc: '2.0', id: 2, result: tools(['secret-c']) },
    ]);
    const res = rewriteResults(chunked(splitEvery(body, 7), 'application/json'), new Set([1]), onlyPublic);
    expect(res.headers.get('content-length')).toBeNull();
    const out = (await res.json()) as Array<{ result: { tools: Array<{ name: string }> } }>;
    expect(out[0]!.result.tools.map((t) => t.name)).toEqual(['a']);
    expect(out[1]!.result.tools.map((t) => t.name)).toEqual(['secret-c']);
  });

  it('an event stream split mid-event and mid-character: only the watched event changes, others pass byte for byte', async () => {
    const note =
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"héllo"}}\n\n';
    const list = `event: message\nid: 9\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'l', result: tools(['x', 'secret-y']) })}\n\n`;
    const res = rewriteResults(
      chunked(splitEvery(note + list, 5), 'text/event-stream'),
      new Set(['l']),
      onlyPublic,
    );
    const text = await res.text();
    expect(text.startsWith(note)).toBe(true);
    const data = text.slice(note.length).split('\n');
    expect(data).toContain('id: 9');
    const json = JSON.parse(data.find((l) => l.startsWith('data: '))!.slice(6)) as {
      result: { tools: Array<{ name: string }> };
    };
    expect(json.result.tools.map((t) => t.name)).toEqual(['x']);
  });

  it('an event stream with CRLF line ends split between chunks, the result over two data lines: still rewritten', async () => {
    const result = JSON.stringify({ jsonrpc: '2.0', id: 'l', result: tools(['x', 'secret-y']) });
    const at = result.indexOf('"result"');
    // Each chunk ends with the CR of a CRLF whose LF starts the next one.
    const parts = [
      'event: message\r',
      `\nid: 9\r\ndata: ${result.slice(0, at)}\r`,
      `\ndata: ${result.slice(at)}\r`,
      '\n\r',
      '\n',
    ].map((p) => new TextEncoder().encode(p));
    const res = rewriteResults(chunked(parts, 'text/event-stream'), new Set(['l']), onlyPublic);
    const lines = (await res.text()).split('\n');
    expect(lines).toContain('id: 9');
    const data = lines.filter((l) => l.startsWith('data: '));
    expect(data).toHaveLength(1);
    const json = JSON.parse(data[0]!.slice(6)) as { result: { tools: Array<{ name: string }> } };
    expect(json.result.tools.map((t) => t.name)).toEqual(['x']);
  });

  it('an answer of another type passes unchanged', async () => {
    const res = new Response('plain', { headers: { 'content-type': 'text/plain' } });
    expect(rewriteResults(res, new Set([1]), onlyPublic)).toBe(res);
  });
});

describe('refusals added to the answer of a partly forwarded batch', () => {
  const refused = [{ jsonrpc: '2.0', id: 9, error: { code: -32010, message: 'no' } }];

  it('to a JSON array', async () => {
    const res = await withRefusals(Response.json([{ jsonrpc: '2.0', id: 1, result: {} }]), refused);
    expect(((await res.json()) as Array<{ id: number }>).map((m) => m.id)).toEqual([1, 9]);
  });

  it('ahead of an event stream', async () => {
    const res = await withRefusals(
      new Response('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n', {
        headers: { 'content-type': 'text/event-stream' },
      }),
      refused,
    );
    const ids = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => (JSON.parse(l.slice(6)) as { id: number }).id);
    expect(ids).toEqual([9, 1]);
  });

  it('as the whole answer when the backend accepted the rest with 202', async () => {
    const res = await withRefusals(new Response(null, { status: 202 }), refused);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(refused);
  });
});
