// Lazy responses: `Response` objects a runtime edge can write without building one (inlined into
// each package). Web-standard only.

/** Where a pushed body writes: bytes as they come, then the end. */
export interface PushSink {
  write(bytes: Uint8Array): void;
  end(): void;
}

/** Bytes a pushed body may have waiting for a reader that does not keep up, unless it says otherwise. */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * A body its producer pushes (an event stream): {@link attach} connects it to where it goes
 * (what was pushed before goes out first); {@link cancel} tells the producer the reader left.
 * A reader that stops reading cannot make the writer hold more than {@link maxQueuedBytes}
 * (default {@link DEFAULT_MAX_QUEUED_BYTES}) plus one chunk for it (one chunk of any size is always
 * taken): a chunk that comes while more waits cuts the response and cancels the body (an event-stream client reconnects, resuming where its protocol allows).
 */
export interface PushBody {
  attach(sink: PushSink): void;
  cancel(): void;
  /** Most bytes written but not yet taken by the reader before the body is cancelled. */
  readonly maxQueuedBytes?: number;
}

/**
 * A new header record: `base`'s members, then `over`'s (which win). A loop, not an object spread:
 * V8 gives a spread's result a map that the next added key turns slow (measured: a spread of two
 * small records, or one with a key added after, ~450 ns against ~50 ns for this loop), and every
 * response's headers pass through here.
 */
export function mergedHeaders<V extends string | string[]>(
  base: Readonly<Record<string, V>>,
  over?: Readonly<Record<string, V>>,
): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k in base) out[k] = base[k]!;
  if (over) for (const k in over) out[k] = over[k]!;
  return out;
}

/** What a {@link LateBody} settles to: the response's status, its headers and its body. */
export interface LateFinal {
  status: number;
  /** Headers of the answer (lower-case names); headers added to the response before it settled win. */
  headers: Record<string, string>;
  body: string | Uint8Array | PushBody | null;
}

/**
 * A response decided later: its status, headers and body are known only when it settles (a call
 * forwarded to a backend that has not answered yet). Handing it up the handler chain first lets
 * everything on the way run while the backend works. An edge that declared
 * `RequestInfo.lateResponses` writes it when it settles; {@link cancel} tells the producer the
 * client left first. Readers of the status use {@link whenSettled}.
 */
export interface LateBody {
  /** Calls `cb` once with the final answer: at once when settled, else when it settles. */
  settled(cb: (final: LateFinal) => void): void;
  /** The final answer when settled, else `undefined` (asking registers nothing). */
  peek(): LateFinal | undefined;
  /** The client left before the answer settled (nothing happens once it has). */
  cancel(): void;
}

/** The producer's side of a {@link LateBody}: {@link settle} it once; `onCancel` runs if the client leaves first. */
export class LateAnswer implements LateBody {
  private final: LateFinal | undefined;
  private waiting: ((final: LateFinal) => void)[] | undefined;
  private cancelled = false;

  constructor(private readonly onCancel: () => void) {}

  /**
   * Settles the answer (later calls are ignored). The last reader to ask (the edge, which asks
   * after every handler it passed through) is told now and writes the answer; the others (access
   * lines, counters), last-asked first, in a microtask after it: their bookkeeping does not delay
   * the answer.
   */
  settle(final: LateFinal): void {
    if (this.final) return;
    this.final = final;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    const first = waiting.pop()!;
    try {
      first(final);
    } finally {
      // Queued after the first reader ran: that one (the edge, writing) waits for nothing else.
      if (waiting.length > 0) {
        queueMicrotask(() => {
          for (let i = waiting.length - 1; i >= 0; i--) waiting[i]!(final);
        });
      }
    }
  }

  settled(cb: (final: LateFinal) => void): void {
    if (this.final) cb(this.final);
    else (this.waiting ??= []).push(cb);
  }

  peek(): LateFinal | undefined {
    return this.final;
  }

  cancel(): void {
    if (this.final || this.cancelled) return;
    this.cancelled = true;
    this.onCancel();
  }
}

/** What a lazy response holds until someone needs the real `Response`. */
export interface LazyResponseState {
  /** The status; for a {@link LateBody} the provisional one until it settles. */
  status: number;
  /** Headers as given (lower-case names), until someone asks for `response.headers`. */
  headers: Record<string, string>;
  body: string | Uint8Array | PushBody | LateBody | null;
  /** `response.headers`, once asked for (changes through it count). */
  realHeaders?: Headers;
  /** The real `Response`, once something beyond status and headers was asked for. */
  real?: Response;
}

const kState: unique symbol = Symbol.for('@mcp-gateway/internal.lazy-response') as never;
type WithState = Response & { [kState]: LazyResponseState };
const stateOf = (r: object): LazyResponseState => (r as WithState)[kState];

/**
 * A `ReadableStream` of a pushed body (cancelling the stream cancels the body). A chunk that comes
 * while more than the body's `maxQueuedBytes` are queued (a reader that stopped reading) errors
 * the stream, which frees its queue, and cancels the body.
 */
export function pushStream(body: PushBody): ReadableStream<Uint8Array> {
  const max = body.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let done = false;
        body.attach({
          write(bytes) {
            if (done) return;
            try {
              // With a byte-size strategy and no high-water mark, -desiredSize is the bytes queued.
              if (-controller.desiredSize! > max) {
                done = true;
                controller.error(
                  new RangeError(`more than ${max} bytes queued for a reader that is not reading`),
                );
                body.cancel();
                return;
              }
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
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
}

const isPush = (b: LazyResponseState['body']): b is PushBody =>
  b !== null && typeof b === 'object' && typeof (b as PushBody).attach === 'function';

const isLate = (b: LazyResponseState['body']): b is LateBody =>
  b !== null && typeof b === 'object' && typeof (b as LateBody).settled === 'function';

/**
 * Folds a settled late body into the state (status, headers under the ones added since, body).
 * True when the state holds no unsettled late body afterwards.
 */
function settleState(s: LazyResponseState): boolean {
  const late = s.body;
  if (!isLate(late)) return true;
  const f = late.peek();
  if (!f) return false;
  s.status = f.status;
  s.body = f.body;
  if (s.realHeaders) {
    for (const [k, v] of Object.entries(f.headers)) if (!s.realHeaders.has(k)) s.realHeaders.set(k, v);
  } else s.headers = mergedHeaders(f.headers, s.headers);
  return true;
}

function materialize(self: object): Response {
  const s = stateOf(self);
  if (!s.real) {
    if (!settleState(s)) {
      throw new TypeError('a late response was read before it settled (read its status with whenSettled)');
    }
    const body = s.body as Exclude<LazyResponseState['body'], LateBody>;
    const init = { status: s.status, headers: s.realHeaders ?? s.headers };
    s.real = new Response((isPush(body) ? pushStream(body) : body) as BodyInit | null, init);
    s.realHeaders = s.real.headers;
  }
  return s.real;
}

const lazyPrototype: object = Object.create(Response.prototype, {
  status: {
    get(this: object) {
      const s = stateOf(this);
      settleState(s);
      return s.status;
    },
  },
  ok: {
    get(this: object) {
      const s = stateOf(this);
      settleState(s);
      return s.status >= 200 && s.status < 300;
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
 * comes; a {@link LateBody} when it settles. `headers` names must be lower-case.
 */
export function lazyResponse(
  body: string | Uint8Array | PushBody | LateBody | null,
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

/** Whether a lazy response body is a {@link LateBody}. */
export { isLate as isLateBody };

/**
 * Calls `cb` with the response's final status: at once, or, for a lazy response whose
 * {@link LateBody} has not settled, when it settles (never, if the client leaves first).
 */
export function whenSettled(response: Response, cb: (status: number) => void): void {
  const s = (response as Partial<WithState>)[kState];
  const body = s && !s.real ? s.body : null;
  if (isLate(body)) body.settled((final) => cb(final.status));
  else cb(response.status);
}

/**
 * Adds `headers` to `response` without building its `Headers` when it is a lazy response whose
 * header record is still the one in use (its `headers` never asked for): a new record with them
 * added (the given one may be shared). Returns `false`, changing nothing, for any other response;
 * set them through `response.headers` then.
 */
export function addLazyHeaders(response: Response, headers: Record<string, string>): boolean {
  const s = (response as Partial<WithState>)[kState];
  if (!s || s.realHeaders) return false;
  const out = mergedHeaders(s.headers);
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
