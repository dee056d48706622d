// The event-stream reader every package shares (packages/internal, inlined into each at build time).
// Rules from WHATWG HTML §9.2.6 "Parsing an event stream".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lfLineEnds, readSseData, sseDataOf } from '../src/sse-reader.js';

class TooLarge extends Error {}
const tooLarge = () => new TooLarge();
const LIMIT = 1000;

/**
 * A body of `chunks`, each a string (UTF-8 encoded) or raw bytes, pulled one at a time; it counts
 * how many were pulled and whether it was cancelled. After the chunks it stays open (no end)
 * when `open` is set.
 */
function chunked(chunks: (string | Uint8Array)[], open = false) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[state.pulled];
        if (next === undefined) {
          if (open) return new Promise<void>(() => {});
          return controller.close();
        }
        state.pulled++;
        controller.enqueue(typeof next === 'string' ? new TextEncoder().encode(next) : next);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    // Pull only when read, so `pulled` counts what the reader asked for.
    { highWaterMark: 0 },
  );
  return { body, state };
}

async function all(chunks: (string | Uint8Array)[], maxEventLength = LIMIT) {
  const { body, state } = chunked(chunks);
  const out: string[] = [];
  for await (const data of readSseData(body, { maxEventLength, tooLarge })) out.push(data);
  return { out, state };
}

describe('event-stream reader: line ends (LF, CRLF, bare CR)', () => {
  it('reads a stream whose lines end with a bare CR', async () => {
    const { out } = await all(['data: {"a":1}\r\rdata: two\r', '\r: comment\rdata: 3\r\r']);
    expect(out).toEqual(['{"a":1}', 'two', '3']);
  });

  it('a bare-CR event ending its chunk is delivered before the next chunk is read', async () => {
    const { body, state } = chunked(['data: first\r\r', 'data: second\r\r'], true);
    const events = readSseData(body, { maxEventLength: LIMIT, tooLarge });
    expect(await events.next()).toEqual({ done: false, value: 'first' });
    expect(state.pulled).toBe(1);
    expect(await events.next()).toEqual({ done: false, value: 'second' });
    await events.return();
    expect(state.cancelled).toBe(true);
  });

  it('a CRLF split across two chunks is one line end, not a blank line', async () => {
    const { out } = await all(['data: a\r', '\ndata: b\r\n\r', '\ndata: c\r\n\r\n']);
    expect(out).toEqual(['a\nb', 'c']);
  });

  it('a CR ending a chunk followed by another CR is a blank line', async () => {
    const { out } = await all(['data: a\r', '\rdata: b\n\n']);
    expect(out).toEqual(['a', 'b']);
  });

  it('mixed line ends in one stream', async () => {
    const { out } = await all(['data: a\r\ndata: b\ndata: c\r\r\ndata: d\n\r']);
    expect(out).toEqual(['a\nb\nc', 'd']);
  });

  it('any split of the stream into chunks, even inside a character, reads the same events', async () => {
    const text =
      '\ufeffdata: {"é":"🙂"}\r\ndata:x\r\r: note\nevent: e\nid: 7\ndata\r\n\r\ndata:  two spaces\n\n';
    const bytes = new TextEncoder().encode(text);
    const expected = ['{"é":"🙂"}\nx', '', ' two spaces'];
    expect((await all([bytes])).out).toEqual(expected);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 })), async (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = at.slice(1).map((end, i) => bytes.slice(at[i], end));
        expect((await all(chunks)).out).toEqual(expected);
      }),
    );
  });
});

describe('lfLineEnds: a stream text with LF line ends only', () => {
  it('any split of a text with CRLF, bare CR and LF converts as the whole text does', () => {
    const line = fc.constantFrom('a', 'data: x', '', ':c');
    const eol = fc.constantFrom('\n', '\r', '\r\n');
    const text = fc.array(fc.tuple(line, eol), { maxLength: 12 }).map((ls) => ls.flat().join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat()), (t, cuts) => {
        const at = [0, ...cuts.map((c) => c % (t.length + 1)).sort((a, b) => a - b), t.length];
        const lf = lfLineEnds();
        const out = at.slice(1).map((end, i) => lf(t.slice(at[i], end)));
        expect(out.join('')).toBe(t.replace(/\r\n?/g, '\n'));
      }),
    );
  });
});

describe('event-stream reader: fields', () => {
  it('joins the data lines of one event with LF, with and without the space after the colon', async () => {
    const { out } = await all(['data:{"jsonrpc":\ndata: "2.0",\ndata:  "id":1}\n\n']);
    expect(out).toEqual(['{"jsonrpc":\n"2.0",\n "id":1}']);
  });

  it('ignores comments, event, id, retry and unknown fields; an event without data is not delivered', async () => {
    const { out } = await all([
      ': hello\nevent: message\nid: 1\nretry: 10\nfoo: bar\ndatum: no\n\n',
      'data: x\n\n',
    ]);
    expect(out).toEqual(['x']);
  });

  it('drops a BOM at the start of the stream only', async () => {
    const { out } = await all(['\ufeffdata: a\n\n', '\ufeffdata: b\n\ndata: c\n\n']);
    expect(out).toEqual(['a', 'c']);
  });

  it('delivers an event the stream ended without its blank line', async () => {
    expect((await all(['data: a\n\ndata: b\n'])).out).toEqual(['a', 'b']);
    expect((await all(['data: a\n\ndata: b'])).out).toEqual(['a', 'b']);
  });

  it('sseDataOf reads a whole text the same way', () => {
    expect(sseDataOf('data: a\rdata: b\r\rdata: c\r\n\r\n')).toEqual(['a\nb', 'c']);
  });
});

describe('event-stream reader: the bound on one event', () => {
  it('an event within the bound is read; its data lines count together', async () => {
    const line = `data: ${'x'.repeat(400)}\n`;
    expect((await all([line, line, '\n'])).out).toEqual([`${'x'.repeat(400)}\n${'x'.repeat(400)}`]);
    await expect(all([line, line, line, '\n'])).rejects.toBeInstanceOf(TooLarge);
  });

  it('a line that never ends past the bound fails and the body is cancelled', async () => {
    const { body, state } = chunked(['data: ', ...Array.from({ length: 20 }, () => 'y'.repeat(100))], true);
    const out: string[] = [];
    await expect(
      (async () => {
        for await (const d of readSseData(body, { maxEventLength: LIMIT, tooLarge })) out.push(d);
      })(),
    ).rejects.toBeInstanceOf(TooLarge);
    expect(out).toEqual([]);
    expect(state.pulled).toBeLessThan(20);
    expect(state.cancelled).toBe(true);
  });

  it('events completed before the one past the bound are still delivered', async () => {
    const { body } = chunked([`data: ok\n\ndata: ${'z'.repeat(LIMIT + 1)}\n\n`]);
    const out: string[] = [];
    await expect(
      (async () => {
        for await (const d of readSseData(body, { maxEventLength: LIMIT, tooLarge })) out.push(d);
      })(),
    ).rejects.toBeInstanceOf(TooLarge);
    expect(out).toEqual(['ok']);
  });

  it('the bound is per event: many events of any total size are read', async () => {
    const event = `data: ${'w'.repeat(900)}\n\n`;
    const { out } = await all(Array.from({ length: 50 }, () => event));
    expect(out).toHaveLength(50);
  });
});

describe('event-stream reader: abort and release', () => {
  it('an abort while waiting for the next chunk ends the iteration and cancels the body', async () => {
    const { body, state } = chunked(['data: a\n\n'], true);
    const controller = new AbortController();
    const out: string[] = [];
    const reading = (async () => {
      for await (const d of readSseData(body, {
        maxEventLength: LIMIT,
        tooLarge,
        signal: controller.signal,
      })) {
        out.push(d);
        controller.abort();
      }
    })();
    await reading;
    expect(out).toEqual(['a']);
    expect(state.cancelled).toBe(true);
  });

  it('an abort from outside while a read is pending ends the iteration', async () => {
    const { body, state } = chunked(['data: a\n\n'], true);
    const controller = new AbortController();
    const events = readSseData(body, { maxEventLength: LIMIT, tooLarge, signal: controller.signal });
    expect(await events.next()).toEqual({ done: false, value: 'a' });
    const pending = events.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(state.cancelled).toBe(true);
  });

  it('an already aborted signal reads nothing', async () => {
    const { body, state } = chunked(['data: a\n\n']);
    const signal = AbortSignal.abort();
    const out: string[] = [];
    for await (const d of readSseData(body, { maxEventLength: LIMIT, tooLarge, signal })) out.push(d);
    expect(out).toEqual([]);
    expect(state.pulled).toBe(0);
    expect(state.cancelled).toBe(true);
  });

  it('leaving the loop cancels the body and releases it; an error of the body propagates', async () => {
    const { body, state } = chunked(['data: a\n\ndata: b\n\n'], true);
    for await (const d of readSseData(body, { maxEventLength: LIMIT, tooLarge })) if (d === 'a') break;
    expect(state.cancelled).toBe(true);
    expect(body.locked).toBe(false);

    let pulls = 0;
    const failing = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(new TextEncoder().encode('data: a\n\n'));
          else controller.error(new Error('connection reset'));
        },
      },
      { highWaterMark: 0 },
    );
    const out: string[] = [];
    await expect(
      (async () => {
        for await (const d of readSseData(failing, { maxEventLength: LIMIT, tooLarge })) out.push(d);
      })(),
    ).rejects.toThrow('connection reset');
    expect(out).toEqual(['a']);
  });
});
