// Lazy responses: `Response` objects a runtime edge can write without building one (inlined into
// each package). Web-standard only.

/** Where a pushed body writes: bytes as they come, then the end. */
export interface PushSink {
  write(bytes: Uint8Array): void;
  end(): void;
}

/**
 * A body its producer pushes (an event stream): {@link attach} connects it to where it goes
 * (what was pushed before goes out first); {@link cancel} tells the producer the reader left.
 */
export interface PushBody {
  attach(sink: PushSink): void;
  cancel(): void;
}

/** What a lazy response holds until someone needs the real `Response`. */
export interface LazyResponseState {
  status: number;
  /** Headers as given (lower-case names), until someone asks for `response.headers`. */
  headers: Record<string, string>;
  body: string | Uint8Array | PushBody | null;
  /** `response.headers`, once asked for (changes through it count). */
  realHeaders?: Headers;
  /** The real `Response`, once something beyond status and headers was asked for. */
  real?: Response;
}

const kState: unique symbol = Symbol.for('@mcp-gateway/internal.lazy-response') as never;
type WithState = Response & { [kState]: LazyResponseState };
const stateOf = (r: object): LazyResponseState => (r as WithState)[kState];

/** A `ReadableStream` of a pushed body (cancelling the stream cancels the body). */
export function pushStream(body: PushBody): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false;
      body.attach({
        write(bytes) {
          if (done) return;
          try {
            controller.enqueue(bytes);
          } catch {
            done = true;
          }
        },
        end() {
          if (done) return;
          done = true;
          try {
            controller.close();
          } catch {
            // already cancelled
          }
        },
      });
    },
    cancel() {
      body.cancel();
    },
  });
}

const isPush = (b: LazyResponseState['body']): b is PushBody =>
  b !== null && typeof b === 'object' && typeof (b as PushBody).attach === 'function';

function materialize(self: object): Response {
  const s = stateOf(self);
  if (!s.real) {
    const body = s.body;
    const init = { status: s.status, headers: s.realHeaders ?? s.headers };
    s.real = new Response((isPush(body) ? pushStream(body) : body) as BodyInit | null, init);
    s.realHeaders = s.real.headers;
  }
  return s.real;
}

const lazyPrototype: object = Object.create(Response.prototype, {
  status: {
    get(this: object) {
      return stateOf(this).status;
    },
  },
  ok: {
    get(this: object) {
      const status = stateOf(this).status;
      return status >= 200 && status < 300;
    },
  },
  statusText: { get: () => '' },
  headers: {
    get(this: object) {
      const s = stateOf(this);
      return (s.realHeaders ??= new Headers(s.headers));
    },
  },
  bodyUsed: {
    get(this: object) {
      const real = stateOf(this).real;
      return real ? real.bodyUsed : false;
    },
  },
});
for (const key of Object.getOwnPropertyNames(Response.prototype)) {
  if (key === 'constructor' || Object.prototype.hasOwnProperty.call(lazyPrototype, key)) continue;
  const d = Object.getOwnPropertyDescriptor(Response.prototype, key)!;
  if (typeof d.value === 'function') {
    Object.defineProperty(lazyPrototype, key, {
      value(this: object, ...args: unknown[]) {
        const real = materialize(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return real[key]!(...args);
      },
    });
  } else if (d.get) {
    Object.defineProperty(lazyPrototype, key, {
      get(this: object) {
        return (materialize(this) as unknown as Record<string, unknown>)[key];
      },
    });
  }
}

/**
 * A `Response` (`instanceof Response`, every member works) that builds the real one only when
 * something beyond `status`, `ok` and `headers` is asked for. A runtime edge writes it straight
 * from `body` and the header record ({@link unbuiltResponse}); a pushed body is written as it
 * comes. `headers` names must be lower-case.
 */
export function lazyResponse(
  body: string | Uint8Array | PushBody | null,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  const r = Object.create(lazyPrototype) as WithState;
  r[kState] = { status: init.status ?? 200, headers: init.headers ?? {}, body };
  return r;
}

/** The state of a lazy response whose real `Response` was never built (for the edge); else `undefined`. */
export function unbuiltResponse(response: Response): LazyResponseState | undefined {
  const s = (response as Partial<WithState>)[kState];
  return s && !s.real ? s : undefined;
}

/** Whether a lazy response body is pushed (an event stream). */
export { isPush as isPushBody };

/**
 * Adds `headers` to `response` without building its `Headers` when it is a lazy response whose
 * header record is still the one in use (its `headers` never asked for): a new record with them
 * added (the given one may be shared). Returns `false`, changing nothing, for any other response;
 * set them through `response.headers` then.
 */
export function addLazyHeaders(response: Response, headers: Record<string, string>): boolean {
  const s = (response as Partial<WithState>)[kState];
  if (!s || s.realHeaders) return false;
  const out = { ...s.headers };
  for (const k in headers) out[k.toLowerCase()] = headers[k]!;
  s.headers = out;
  return true;
}

/**
 * `response.headers.get(name)` without building a lazy response's `Headers` (`name` lower-case).
 * Any other response is asked as usual.
 */
export function responseHeader(response: Response, name: string): string | null {
  const s = (response as Partial<WithState>)[kState];
  if (!s || s.realHeaders) return response.headers.get(name);
  return s.headers[name] ?? null;
}
