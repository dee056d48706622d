/**
 * Size limits on what the server sends on the MCP 2025 path, where the MCP
 * SDK's transport reads bodies itself: a JSON (or any non-SSE) body may be at
 * most `max` bytes, and each SSE event at most `max` bytes (field names and
 * line ends excluded); an SSE stream as a whole is not limited. A body over
 * the limit errors with a `too_large` {@link ServerError} as soon as the
 * limit is crossed, so nothing larger is ever buffered.
 */
import { ServerError } from '../errors.js';
import type { FetchLike } from '../http/fetch.js';

const LF = 0x0a;
const CR = 0x0d;

/** True for a `too_large` error of {@link capServerMessages}. */
export function isTooLarge(err: unknown): err is ServerError {
  return err instanceof ServerError && err.code === 'too_large';
}

function byteCap(max: number, tooLarge: () => ServerError): TransformStream<Uint8Array, Uint8Array> {
  let total = 0;
  return new TransformStream({
    transform(chunk, controller) {
      total += chunk.length;
      if (total > max) controller.error(tooLarge());
      else controller.enqueue(chunk);
    },
  });
}

/** Counts the bytes of the SSE event being read (since the last blank line); errors past `max`. */
function sseEventCap(max: number, tooLarge: () => ServerError): TransformStream<Uint8Array, Uint8Array> {
  let eventBytes = 0;
  let lineBytes = 0;
  let afterCR = false;
  return new TransformStream({
    transform(chunk, controller) {
      for (const b of chunk) {
        if (b === LF && afterCR) {
          afterCR = false;
          continue;
        }
        afterCR = b === CR;
        if (b === LF || b === CR) {
          if (lineBytes === 0) eventBytes = 0;
          lineBytes = 0;
          continue;
        }
        lineBytes++;
        eventBytes++;
      }
      if (eventBytes > max) controller.error(tooLarge());
      else controller.enqueue(chunk);
    },
  });
}

/** `base` whose response bodies are capped at `max` bytes (SSE: per event). */
export function capServerMessages(base: FetchLike, max: number): FetchLike {
  return async (input, init) => {
    const res = await base(input, init);
    if (!res.body) return res;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const sse = type === 'text/event-stream';
    const tooLarge = () =>
      new ServerError(
        'too_large',
        sse
          ? `${url} sent an event longer than ${max} bytes; it was not read`
          : `${url} sent an answer larger than ${max} bytes; it was not read`,
      );
    if (!sse && Number(res.headers.get('content-length') ?? 0) > max) {
      await res.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    const body = res.body.pipeThrough(sse ? sseEventCap(max, tooLarge) : byteCap(max, tooLarge));
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
