import { readCappedBody } from '@mcp-gateway/internal/capped-body';
import { NetworkError } from '../errors.js';

/** The fetch function the client uses; injectable (tests pass the global one, hosts may add proxies). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Default per-request timeout for OAuth and metadata requests. */
export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;

/** Largest metadata / error body we read. */
export const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Calls `fetch`, turning connection failures (DNS, refused, reset, timeout)
 * into a {@link NetworkError} that names the URL and the cause.
 */
export async function fetchOrThrow(
  fetchFn: FetchLike,
  url: string | URL,
  init: RequestInit = {},
  timeoutMs = DEFAULT_HTTP_TIMEOUT_MS,
): Promise<Response> {
  try {
    return await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), ...init });
  } catch (err) {
    throw new NetworkError(`cannot reach ${String(url)}: ${describeFetchFailure(err)}`, { cause: err });
  }
}

/** A short human reason for a failed fetch (`ECONNREFUSED`, `timeout`, ...). */
export function describeFetchFailure(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = (err as { cause?: unknown }).cause;
    if (cause && typeof cause === 'object') {
      const code = (cause as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      if (cause instanceof Error) return cause.message;
    }
    return err.message;
  }
  return String(err);
}

/** Reads a body as text, refusing one of more than `limit` bytes (declared or sent). */
export async function readTextLimited(response: Response, limit = MAX_METADATA_BYTES): Promise<string> {
  const body = await readCappedBody(response, limit, () => new Error(`body larger than ${limit} bytes`));
  return body ? new TextDecoder().decode(body) : '';
}

export { isLoopbackHost } from '@mcp-gateway/internal/host';

/** A short description of an HTTP body for error messages: never a whole HTML page. */
export function summarizeBody(contentType: string | null, text: string): string {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/html' || /^\s*<(!doctype|html)/i.test(text)) {
    const title = /<title[^>]*>([^<]{0,120})<\/title>/i.exec(text)?.[1]?.trim();
    return title ? `an HTML page ("${title}")` : 'an HTML page';
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (!oneLine) return 'an empty body';
  return oneLine.length > 200 ? `"${oneLine.slice(0, 200)}…"` : `"${oneLine}"`;
}
