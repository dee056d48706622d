import { NetworkError } from '../errors.js';
import { describeFetchFailure, fetchOrThrow, type FetchLike } from '../http/fetch.js';

/** Failures where the connection dropped before an answer: a fresh connection may well succeed. */
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * GETs a metadata document (RFC 9728 / RFC 8414) as JSON. The request is
 * idempotent, so a connection reset before the answer (a pooled keep-alive
 * socket the server had just closed, seen against busy servers) is retried
 * once on a new connection, as browsers do; any other failure is thrown.
 */
export async function getMetadataDocument(
  fetchFn: FetchLike,
  url: string,
  timeoutMs?: number,
): Promise<Response> {
  const get = () => fetchOrThrow(fetchFn, url, { headers: { accept: 'application/json' } }, timeoutMs);
  try {
    return await get();
  } catch (err) {
    if (err instanceof NetworkError && RETRYABLE.has(describeFetchFailure(err.cause))) return get();
    throw err;
  }
}
