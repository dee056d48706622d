/**
 * The storage backend could not be reached or did not answer in time
 * (connection refused or lost, command timeout, server loading its data).
 * Store implementations throw it; the server answers `503
 * temporarily_unavailable` with `Retry-After` (an HTML page on browser
 * routes), and recovers by itself once the backend is back.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** Always `store_unavailable`, for logs and `switch`es that do not use `instanceof`. */
  readonly code = 'store_unavailable';
  /** What clients are told to wait before retrying (`Retry-After`, seconds). */
  readonly retryAfterSeconds: number;

  constructor(
    message = 'storage unavailable',
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/**
 * Whether `err` means "storage unavailable": a {@link StoreUnavailableError},
 * or anything else marked with `code: 'store_unavailable'` (e.g. thrown by a
 * second copy of this package).
 */
export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return (
    err instanceof StoreUnavailableError ||
    (err instanceof Error && (err as { code?: unknown }).code === 'store_unavailable')
  );
}

/**
 * A backend failure as a {@link StoreUnavailableError}: `err` itself when it is one already, else one
 * whose message names the backend and the failure (`storage unavailable (redis: Error: …)`), with
 * `err` as its cause. For {@link Store} implementations (this package's and the gateway's).
 */
export function storeUnavailable(err: unknown, backend?: string): StoreUnavailableError {
  if (isStoreUnavailable(err)) return err;
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new StoreUnavailableError(`storage unavailable (${backend ? `${backend}: ` : ''}${reason})`, {
    cause: err,
  });
}
