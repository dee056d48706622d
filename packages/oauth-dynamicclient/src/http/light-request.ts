/**
 * Light requests: objects that are `instanceof Request` and answer `method`,
 * `url`, `headers` and `signal` from the runtime's own request (node's
 * `IncomingMessage`), and build the real `Request` only when something else
 * is asked for (`body`, `text()`, `clone()`…). Constructing a WHATWG
 * `Request` costs more on Node 20 than everything else a `/verify` needs.
 *
 * A light request must not be handed to `new Request(request)` or
 * `fetch(request)` (those read the real object's internals): adapters only
 * pass them to handlers marked with {@link markLightRequestHandler}, and
 * such handlers call {@link realRequest} before giving the request to code
 * they do not control.
 */

const lightHandlers = new WeakSet<object>();

/** Light requests implement this method: it builds (once) and returns the real `Request`. */
export const materializeRequest: unique symbol = Symbol('materializeRequest');

/** Marks `handler` as safe for light requests (it never gives them to `new Request()` or `fetch()`). */
export function markLightRequestHandler<T extends object>(handler: T): T {
  lightHandlers.add(handler);
  return handler;
}

/** Whether `handler` was marked with {@link markLightRequestHandler}. */
export function acceptsLightRequests(handler: object): boolean {
  return lightHandlers.has(handler);
}

/** The real `Request` behind a light request (built now if needed); any other request as is. */
export function realRequest(request: Request): Request {
  const materialize = (request as { [materializeRequest]?: () => Request })[materializeRequest];
  return typeof materialize === 'function' ? materialize.call(request) : request;
}
