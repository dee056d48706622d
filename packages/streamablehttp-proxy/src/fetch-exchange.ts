import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import type { RequestInfo } from '@mcp-gateway/internal/fetch-handler';
import { lazyResponse } from '@mcp-gateway/internal/lazy-response';
import { tooLarge, type Reply, type RequestView } from './exchange.js';
import type { HttpHandler } from './http-handler.js';

/**
 * The one request path: a web `Request` becomes a {@link RequestView} (the body the edge already
 * read, else read only when the handler asks, size-limited), the {@link Reply} a `Response`.
 */
export async function handleFetch(
  handler: HttpHandler,
  max: number,
  request: Request,
  info: RequestInfo | undefined,
): Promise<Response> {
  const headers = request.headers;
  const view: RequestView = {
    method: request.method,
    url: request.url,
    header: (name) => headers.get(name),
    body: info?.body,
    clientGone: () => info?.signal ?? request.signal,
    lateAnswer: info?.lateResponses === true,
  };
  if (!view.body) view.loadBody = () => readBody(request, max);
  return toResponse(await handler.handle(view));
}

/**
 * A {@link Reply} as a web `Response`. A lazy one: the node edge writes it straight from the
 * reply (an event stream as the session pushes it); anyone else reading it gets a real one.
 */
export function toResponse(reply: Reply): Response {
  return lazyResponse(reply.late ?? reply.sse ?? reply.body ?? null, {
    status: reply.status,
    headers: reply.headers,
  });
}

/** Reads a request body whole, refusing (413) more than `max` bytes. */
export function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  return readCappedBody(request, max, () => tooLarge(max));
}
