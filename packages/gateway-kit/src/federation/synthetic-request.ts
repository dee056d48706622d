/**
 * The lazy `Request` a federated endpoint hands a member's backend
 * (`@mcp-gateway/internal/lazy-request`'s contract, as the node edge's): `method`, `url`,
 * `headers.get/has` and `signal` answered from plain values; the real `Request` (with the
 * body) built only when a backend asks for it with `realRequest`.
 *
 * Per request: one object on a shared prototype and one header view; no `Request`,
 * `Headers` or `AbortSignal` is made unless a backend asks for it.
 */
import { MATERIALIZE_REQUEST } from '@mcp-gateway/internal/lazy-request';

/** A header record as a backend reads it: lower-case names. */
class HeaderView {
  constructor(private readonly record: Record<string, string>) {}

  get(name: string): string | null {
    return this.record[name.toLowerCase()] ?? null;
  }

  has(name: string): boolean {
    return name.toLowerCase() in this.record;
  }
}

/** A lazy request's own fields; `instanceof Request` through its prototype chain (set below). */
class SyntheticRequest {
  readonly #record: Record<string, string>;
  readonly #body: () => string;
  readonly #signal: () => AbortSignal;
  #real: Request | undefined;
  readonly headers: HeaderView;

  constructor(
    readonly url: string,
    record: Record<string, string>,
    body: () => string,
    signal: () => AbortSignal,
  ) {
    this.#record = record;
    this.#body = body;
    this.#signal = signal;
    this.headers = new HeaderView(record);
  }

  get method(): string {
    return 'POST';
  }

  get signal(): AbortSignal {
    return this.#signal();
  }

  [MATERIALIZE_REQUEST](): Request {
    return (this.#real ??= new Request(this.url, {
      method: 'POST',
      headers: this.#record,
      body: this.#body(),
      signal: this.#signal(),
    }));
  }
}
// `url`, `headers`, `method` and `signal` shadow the WHATWG getters; the rest is unusable until built (realRequest).
Object.setPrototypeOf(SyntheticRequest.prototype, Request.prototype);

/**
 * A lazy `POST` of `body` to `url` with `headers` (lower-case names). `body` and
 * `signal` may be functions, asked only when something needs them.
 */
export function syntheticRequest(
  url: string,
  headers: Record<string, string>,
  body: string | (() => string),
  signal: AbortSignal | (() => AbortSignal),
): Request {
  const bodyOf = typeof body === 'function' ? body : () => body;
  const signalOf = typeof signal === 'function' ? signal : () => signal;
  return new SyntheticRequest(url, headers, bodyOf, signalOf) as unknown as Request;
}
