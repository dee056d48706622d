/**
 * Watching the Streamable HTTP answers of requests, so the bridge knows when
 * an answer can no longer come.
 *
 * The MCP SDK's `StreamableHTTPClientTransport` reads a POST's SSE answer in
 * the background and says nothing when it ends without the response: a host
 * would wait for its own timeout. This module wraps the transport's `fetch`:
 * every SSE answer to a POST gets an in-band end marker appended (a
 * notification carrying a per-bridge nonce), which the SDK parses and hands
 * to `onmessage` after every event before it, so the bridge learns of the end
 * in order with the events. A body cut by the network is ended the same way.
 * Resume attempts (`GET` with `Last-Event-ID`) are reported with their outcome,
 * and so is the standalone `GET` stream (no `Last-Event-ID`) once it is answered.
 */
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { FetchLike } from '../http/fetch.js';

/** JSON-RPC method of the end marker; never forwarded to the host. */
export const STREAM_END_METHOD = 'notifications/mcp-streamablehttp-client/stream-ended';

const StreamEndSchema = z.object({
  method: z.literal(STREAM_END_METHOD),
  params: z.object({ stream: z.number().int(), nonce: z.string() }),
});

/** How a POST carrying requests was answered. */
export type PostAnswerKind = 'sse' | 'json' | 'accepted';

/** Outcome of a resume attempt: `refused` is 405 (the SDK gives up at once). */
export type ResumeOutcome = 'ok' | 'refused' | 'failed';

/** What {@link watchStreams} reports. */
export interface StreamEvents {
  /** A POST carrying the requests `ids` was answered (`stream` numbers the answer). */
  posted(ids: RequestId[], stream: number, kind: PostAnswerKind): void;
  /** An SSE answer was cut by the network; it is ended with the marker as if closed. */
  cut(stream: number, error: unknown): void;
  /** A `GET` with `Last-Event-ID: lastEventId` was answered (or failed to connect). */
  resumed(lastEventId: string, outcome: ResumeOutcome, detail: string): void;
  /**
   * The standalone `GET` stream (no `Last-Event-ID`) was answered: open
   * (`ok`), refused with 405 (the server offers none), or failed.
   */
  standalone(outcome: ResumeOutcome, detail: string): void;
}

/** The stream number in `m` when it is this watcher's end marker. */
export function streamEndOf(m: JSONRPCMessage, nonce: string): number | undefined {
  if (!('method' in m) || m.method !== STREAM_END_METHOD) return undefined;
  const parsed = StreamEndSchema.safeParse(m);
  return parsed.success && parsed.data.params.nonce === nonce ? parsed.data.params.stream : undefined;
}

function requestIds(body: unknown): RequestId[] {
  if (typeof body !== 'string') return [];
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [];
  }
  const ids: RequestId[] = [];
  for (const m of Array.isArray(json) ? json : [json]) {
    if (m && typeof m === 'object' && 'method' in m && 'id' in m) {
      const id = (m as { id: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') ids.push(id);
    }
  }
  return ids;
}

function mediaType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function headerOf(init: RequestInit | undefined, name: string): string | null {
  return init?.headers ? new Headers(init.headers).get(name) : null;
}

/** `body`, then the end marker, also when `body` is cut (but not when `signal` aborted it). */
function withEndMarker(
  body: ReadableStream<Uint8Array>,
  marker: Uint8Array,
  signal: AbortSignal | null | undefined,
  onCut: (err: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
      } catch (err) {
        if (signal?.aborted) {
          controller.error(err);
          return;
        }
        onCut(err);
      }
      controller.enqueue(marker);
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Wraps `base` for a `StreamableHTTPClientTransport`: reports how POSTs with
 * requests were answered, appends the end marker to their SSE answers, and
 * reports resume attempts.
 */
export function watchStreams(base: FetchLike, nonce: string, events: StreamEvents): FetchLike {
  let streams = 0;
  const encoder = new TextEncoder();
  return async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const resumeFrom = method === 'GET' ? headerOf(init, 'last-event-id') : null;
    let res: Response;
    try {
      res = await base(input, init);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (resumeFrom !== null && !init?.signal?.aborted) events.resumed(resumeFrom, 'failed', detail);
      else if (method === 'GET') events.standalone('failed', detail);
      throw err;
    }
    if (method === 'GET') {
      const outcome: ResumeOutcome | undefined = res.ok
        ? 'ok'
        : res.status === 405
          ? 'refused'
          : res.status < 300 || res.status >= 400
            ? 'failed'
            : undefined;
      // A 3xx (fetch did not follow it) reports nothing, as before.
      if (outcome && resumeFrom !== null) events.resumed(resumeFrom, outcome, `HTTP ${res.status}`);
      else if (outcome) events.standalone(outcome, `HTTP ${res.status}`);
      return res;
    }
    if (method !== 'POST' || !res.ok) return res;
    const ids = requestIds(init?.body);
    if (!ids.length) return res;
    const stream = ++streams;
    if (res.status === 202) {
      events.posted(ids, stream, 'accepted');
      return res;
    }
    const type = mediaType(res);
    if (type === 'application/json') events.posted(ids, stream, 'json');
    if (type !== 'text/event-stream' || !res.body) return res;
    events.posted(ids, stream, 'sse');
    const marker = encoder.encode(
      `\n\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: STREAM_END_METHOD, params: { stream, nonce } })}\n\n`,
    );
    const body = withEndMarker(res.body, marker, init?.signal, (err) => events.cut(stream, err));
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
