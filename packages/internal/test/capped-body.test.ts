// The capped body reader every package shares (packages/internal, inlined into each at build time).
import { describe, expect, it } from 'vitest';
import { readCappedBody } from '../src/capped-body.js';

class TooLarge extends Error {}
const tooLarge = () => new TooLarge();

/** A stream of `chunks` that counts how many were pulled and whether it was cancelled. */
function counted(chunks: string[]) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[state.pulled++];
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
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

describe('capped body reader', () => {
  it('joins every chunk of a body within the limit', async () => {
    const { body } = counted(['ab', 'cd', 'e']);
    const bytes = await readCappedBody({ headers: new Headers(), body }, 5, tooLarge);
    expect(new TextDecoder().decode(bytes)).toBe('abcde');
  });

  it('a declared Content-Length over the limit is refused before any byte is read', async () => {
    const { body, state } = counted(['abcdef']);
    const headers = new Headers({ 'content-length': '6' });
    await expect(readCappedBody({ headers, body }, 5, tooLarge)).rejects.toBeInstanceOf(TooLarge);
    expect(state.pulled).toBe(0);
  });

  it('a stream that grows past the limit is cancelled and refused', async () => {
    const { body, state } = counted(['abc', 'def', 'ghi', 'jkl']);
    await expect(readCappedBody({ headers: new Headers(), body }, 5, tooLarge)).rejects.toBeInstanceOf(
      TooLarge,
    );
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(4);
  });

  it('no body resolves undefined; an empty one, empty bytes', async () => {
    expect(await readCappedBody({ headers: new Headers(), body: null }, 5, tooLarge)).toBeUndefined();
    const { body } = counted([]);
    expect(await readCappedBody({ headers: new Headers(), body }, 5, tooLarge)).toEqual(new Uint8Array(0));
  });

  it('an error of the stream itself propagates as it is', async () => {
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new TypeError('connection reset'));
      },
    });
    await expect(readCappedBody({ headers: new Headers(), body: broken }, 5, tooLarge)).rejects.toThrow(
      'connection reset',
    );
  });
});
