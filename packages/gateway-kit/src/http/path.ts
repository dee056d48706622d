/**
 * A request the gateway refuses as malformed: `400 invalid_request`, turned
 * into a response in the handler's one error path.
 */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  readonly status = 400;
}

/**
 * Percent-decodes one path segment (or other URL-encoded user input). A
 * malformed escape such as `%E0%A4%A` is the client's mistake, so it throws
 * {@link BadRequestError} (400), never the `URIError` (500) of
 * `decodeURIComponent`. Use this for every decode of request input.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError('malformed percent-encoding in the request path');
  }
}
