// Responses whose body is known when they are made (inlined into each package). Web-standard only.

/**
 * The property a response made by {@link bodyResponse} carries its body under. A registered
 * symbol, so the edge inlined into one package recognises responses made by another's copy.
 */
const KNOWN_BODY: unique symbol = Symbol.for('@mcp-gateway/internal.known-body') as never;

type WithKnownBody = Response & { [KNOWN_BODY]?: string | Uint8Array };

/**
 * `new Response(body, init)` that remembers `body`: a runtime edge (the node edge) may then
 * write it in one piece with its `Content-Length` instead of pumping the response stream.
 * Everyone else sees an ordinary `Response`.
 */
export function bodyResponse(body: string | Uint8Array | null, init?: ResponseInit): Response {
  const response = new Response(body as BodyInit | null, init) as WithKnownBody;
  if (body !== null) response[KNOWN_BODY] = body;
  return response;
}

/** The body `response` was made with by {@link bodyResponse}, while its stream is unread; else `undefined`. */
export function knownBody(response: Response): string | Uint8Array | undefined {
  const body = (response as WithKnownBody)[KNOWN_BODY];
  return body !== undefined && !response.bodyUsed ? body : undefined;
}
