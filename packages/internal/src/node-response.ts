// The node edge's responses: web `Response` → node's ServerResponse. Node edge only.
import type { ServerResponse } from 'node:http';
import { knownBody } from './known-body.js';
import {
  DEFAULT_MAX_QUEUED_BYTES,
  isLateBody,
  isPushBody,
  mergedHeaders,
  unbuiltResponse,
  type LateBody,
  type LazyResponseState,
  type PushBody,
} from './lazy-response.js';

/** How long an event stream may wait for its first event before its headers are sent alone. */
export const HEADER_FLUSH_MS = 10;

/** Node's header record of a response: every `Set-Cookie` kept apart, `Content-Length` added when known. */
function headRecord(
  response: Response,
  contentLength: number | undefined,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  let cookies = false;
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') cookies = true;
    else headers[key] = value;
  });
  if (cookies) headers['set-cookie'] = response.headers.getSetCookie();
  if (contentLength !== undefined && headers['content-length'] === undefined)
    headers['content-length'] = String(contentLength);
  return headers;
}

/**
 * Writes a web `Response` to a node response. A body known up front (`bodyResponse`) goes in one
 * `res.end()` with its `Content-Length`; any other body is streamed with backpressure, chunks of
 * one tick leaving in one write, and cancelled when the client goes away. An event stream's
 * headers leave with its first event, or after {@link HEADER_FLUSH_MS} when none is ready. HEAD
 * answers carry the headers only. Resolves when the body is written (or abandoned).
 */
export async function writeResponse(res: ServerResponse, response: Response, head = false): Promise<void> {
  const lazy = unbuiltResponse(response);
  if (lazy) return writeLazy(res, lazy, head);
  const known = knownBody(response);
  if (known !== undefined) {
    const length = typeof known === 'string' ? Buffer.byteLength(known) : known.byteLength;
    res.writeHead(response.status, response.statusText || undefined, headRecord(response, length));
    res.end(head ? undefined : known);
    return;
  }
  res.writeHead(response.status, response.statusText || undefined, headRecord(response, undefined));
  const body = response.body;
  if (!body || head) {
    if (body) await body.cancel().catch(() => {});
    res.end();
    return;
  }
  await pump(res, body, (response.headers.get('content-type') ?? '').startsWith('text/event-stream'));
}

/** Streams `body` to `res` (see {@link writeResponse}). */
async function pump(res: ServerResponse, body: ReadableStream<Uint8Array>, events: boolean): Promise<void> {
  let flushTimer: NodeJS.Timeout | undefined = events
    ? setTimeout(() => res.writableEnded || res.flushHeaders(), HEADER_FLUSH_MS)
    : undefined;
  const reader = body.getReader();
  const onClose = () => void reader.cancel().catch(() => {});
  res.once('close', onClose);
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
      }
      if (done || res.destroyed) break;
      if (!corked) {
        corked = true;
        res.cork();
        process.nextTick(uncork);
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const finish = () => {
            res.off('drain', finish);
            res.off('close', finish);
            resolve();
          };
          res.once('drain', finish);
          res.once('close', finish);
        });
        if (res.destroyed) break;
      }
    }
  } catch {
    // The body failed (or the client went away): a cut connection, not a complete-looking answer.
    res.destroy();
  } finally {
    clearTimeout(flushTimer);
    res.off('close', onClose);
    if (!res.destroyed) res.end();
  }
}

/**
 * Writes a lazy response that was never built: straight from its header record and body. With
 * `ownHeaders` the record is a copy made for this write, so `Content-Length` is added to it in place.
 */
function writeLazy(res: ServerResponse, s: LazyResponseState, head: boolean, ownHeaders = false): void {
  let headers: Record<string, string | string[]> = s.headers;
  if (s.realHeaders) {
    headers = {};
    for (const [k, v] of s.realHeaders) if (k !== 'set-cookie') headers[k] = v;
    const cookies = s.realHeaders.getSetCookie();
    if (cookies.length) headers['set-cookie'] = cookies;
  }
  const body = s.body;
  if (isLateBody(body)) return writeLateBody(res, body, headers, head);
  if (isPushBody(body)) {
    try {
      res.writeHead(s.status, headers);
    } catch (err) {
      body.cancel(); // headers node refuses: nobody will read this body
      throw err;
    }
    if (head) {
      body.cancel();
      res.end();
    } else writePushBody(res, body, headers['content-type'] === 'text/event-stream');
    return;
  }
  if (body !== null && headers['content-length'] === undefined) {
    if (headers === s.headers && !ownHeaders) headers = mergedHeaders(s.headers);
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  }
  res.writeHead(s.status, headers);
  res.end(head || body === null ? undefined : body);
}

/**
 * Writes a late body when it settles: status and body from it, its headers under `added` (those
 * set on the response before). Until then nothing is written; a client that leaves first cancels
 * it.
 */
function writeLateBody(
  res: ServerResponse,
  late: LateBody,
  added: Record<string, string | string[]>,
  head: boolean,
): void {
  let settled = false;
  const onClose = () => settled || late.cancel();
  res.once('close', onClose);
  late.settled((final) => {
    settled = true;
    res.off('close', onClose);
    if (res.destroyed) {
      if (isPushBody(final.body)) final.body.cancel();
      return;
    }
    try {
      const headers = mergedHeaders<string | string[]>(final.headers, added);
      const state = { status: final.status, headers: headers as Record<string, string>, body: final.body };
      writeLazy(res, state, head, true);
    } catch {
      res.destroy(); // headers node refuses: the connection is cut rather than left waiting
    }
  });
}

/**
 * Writes a pushed body to `res` (`writeHead` done): an event stream's headers leave with its first
 * event when one is ready at once (one packet), else after {@link HEADER_FLUSH_MS}; chunks of one
 * tick leave in one write (cork); while the socket's buffer is full later chunks wait for
 * 'drain'; a client that leaves cancels the body. A client that stops reading cannot make us hold
 * more than the body's `maxQueuedBytes` (waiting chunks and node's buffer together) plus one
 * chunk: a chunk that comes while more than that waits drops the waiting chunks, cuts the
 * connection (freeing node's buffer) and cancels the body. One chunk of any size is always taken.
 */
export function writePushBody(res: ServerResponse, body: PushBody, events: boolean): void {
  let flushTimer: NodeJS.Timeout | undefined = events
    ? setTimeout(() => {
        flushTimer = undefined;
        if (!res.writableEnded) res.flushHeaders();
      }, HEADER_FLUSH_MS)
    : undefined;
  let finished = false;
  let corked = false;
  let waiting: Uint8Array[] | null = null;
  let waitingBytes = 0;
  let endAfterDrain = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  const stopTimer = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
  };
  const send = (bytes: Uint8Array) => {
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    if (!res.write(bytes)) {
      waiting = [];
      res.once('drain', onDrain);
    }
  };
  const onDrain = () => {
    const queued = waiting ?? [];
    waiting = null;
    waitingBytes = 0;
    for (let i = 0; i < queued.length; i++) {
      if (waiting) {
        for (; i < queued.length; i++) {
          (waiting as Uint8Array[]).push(queued[i]!);
          waitingBytes += queued[i]!.byteLength;
        }
        return;
      }
      send(queued[i]!);
    }
    if (!waiting && endAfterDrain) res.end();
  };
  // Only counted while the socket's buffer is full: the fast path pays nothing.
  const maxQueued = body.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const overflow = () => {
    finished = true;
    waiting = null;
    waitingBytes = 0;
    stopTimer();
    res.off('drain', onDrain);
    res.off('close', cancel);
    body.cancel();
    res.destroy();
  };
  const cancel = () => {
    stopTimer();
    if (!finished) {
      finished = true;
      body.cancel();
    }
  };
  if (res.destroyed) return cancel(); // the client left before the answer was ready
  res.once('close', cancel);
  body.attach({
    write(bytes) {
      if (finished) return;
      stopTimer();
      if (!waiting) send(bytes);
      else if (waitingBytes + res.writableLength > maxQueued) overflow();
      else {
        waiting.push(bytes);
        waitingBytes += bytes.byteLength;
      }
    },
    end() {
      if (finished) return;
      finished = true;
      stopTimer();
      if (waiting) endAfterDrain = true;
      else res.end();
    },
  });
}
