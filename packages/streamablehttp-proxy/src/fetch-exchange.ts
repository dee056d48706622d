import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { tooLarge, type Reply, type RequestView } from './exchange.js';
import type { HttpHandler } from './http-handler.js';
import { sseReadableStream } from './sse.js';

/**
 * The fetch path: a web `Request` becomes a {@link RequestView} (its body
 * read only when the handler asks, size-limited), the {@link Reply} a `Response`.
 */
export async function handleFetch(handler: HttpHandler, max: number, request: Request): Promise<Response> {
  const view: RequestView = {
    method: request.method,
    url: request.url,
    header: (name) => request.headers.get(name),
    body: undefined,
    loadBody: () => readBody(request, max),
  };
  return toResponse(await handler.handle(view));
}

/** A {@link Reply} as a web `Response` (SSE through a `ReadableStream`). */
export function toResponse(reply: Reply): Response {
  if (reply.sse) {
    return new Response(sseReadableStream(reply.sse), { status: reply.status, headers: reply.headers });
  }
  return new Response((reply.body as Uint8Array<ArrayBuffer> | undefined) ?? null, {
    status: reply.status,
    headers: reply.headers,
  });
}

/** Reads a request body whole, refusing (413) more than `max` bytes. */
export function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  return readCappedBody(request, max, () => tooLarge(max));
}
