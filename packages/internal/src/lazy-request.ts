// Lazy requests: what a handler must know to accept them (inlined into each package). Web-standard only.

/**
 * A handler carrying this property (`true`) accepts lazy requests from a runtime edge: objects
 * that are `instanceof Request` and answer `method`, `url`, `headers` and `signal` cheaply, and
 * build the real `Request` only when something else is asked for. Such a handler must call
 * {@link realRequest} before handing a request to code it does not control (`fetch()`,
 * `new Request(request)` read the real object's internals). Registered symbols, so copies of this
 * module inlined into different packages agree.
 */
export const ACCEPTS_LAZY_REQUESTS: unique symbol = Symbol.for(
  '@mcp-gateway/internal.accepts-lazy-requests',
) as never;

/** Lazy requests implement this method: it builds (once) and returns the real `Request`. */
export const MATERIALIZE_REQUEST: unique symbol = Symbol.for(
  '@mcp-gateway/internal.materialize-request',
) as never;

/** Declares that `handler` accepts lazy requests (see {@link ACCEPTS_LAZY_REQUESTS}); returns it. */
export function acceptLazyRequests<T extends object>(handler: T): T {
  Object.defineProperty(handler, ACCEPTS_LAZY_REQUESTS, { value: true });
  return handler;
}

/** Whether `handler` declared that it accepts lazy requests. */
export function acceptsLazyRequests(handler: object): boolean {
  return (handler as { [ACCEPTS_LAZY_REQUESTS]?: boolean })[ACCEPTS_LAZY_REQUESTS] === true;
}

/** The real `Request` behind a lazy request (built now if needed); any other request as is. */
export function realRequest(request: Request): Request {
  const materialize = (request as { [MATERIALIZE_REQUEST]?: () => Request })[MATERIALIZE_REQUEST];
  return typeof materialize === 'function' ? materialize.call(request) : request;
}
