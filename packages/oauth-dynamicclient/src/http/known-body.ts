/**
 * Responses whose body is a string or bytes known when they were created.
 * Runtime adapters (the node adapter) write such a body with one
 * `res.end(body)` and a `Content-Length` instead of pumping the `Response`
 * stream chunk by chunk; everyone else sees an ordinary `Response`.
 */
const known = new WeakMap<Response, string | Uint8Array>();

/** `new Response(body, init)`, remembering `body` for {@link knownBody}. */
export function bodyResponse(body: string | Uint8Array | null, init?: ResponseInit): Response {
  const response = new Response(body as BodyInit | null, init);
  if (body !== null) known.set(response, body);
  return response;
}

/**
 * The body `response` was created with by {@link bodyResponse}, as long as
 * nobody has read its stream yet; otherwise `undefined`.
 */
export function knownBody(response: Response): string | Uint8Array | undefined {
  const body = known.get(response);
  return body !== undefined && !response.bodyUsed ? body : undefined;
}
