// The node edge's requests: node's IncomingMessage → web `Request` (lazy or real). Node edge only.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { MATERIALIZE_REQUEST } from './lazy-request.js';

/** Express keeps the mount prefix in `originalUrl` and strips it from `url`. */
export type NodeRequest = IncomingMessage & { originalUrl?: string };

/** What a request made by the edge reads lazily: the node request, its URL, body and signal. */
export interface EdgeRequestState {
  req: NodeRequest;
  url: string;
  /** The body, when the edge read it before calling the handler. */
  body: Uint8Array | undefined;
  /** The client-disconnect signal, made on first use. */
  signal: () => AbortSignal;
  /** Lazy requests: their `Headers`, made on first use. */
  headers?: Headers;
  /** Lazy requests: the real `Request`, built on first use. */
  real?: Request;
}

const kState = Symbol('edge request state');
type WithState = { [kState]: EdgeRequestState };
const stateOf = (object: object): EdgeRequestState => (object as WithState)[kState];

/** `http(s)://<Host>`, with `Host` read from `rawHeaders` (node builds `headers` lazily); `undefined` for a Host no URL accepts. */
export function originOf(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  let host = 'localhost';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      host = raw[i + 1]!;
      break;
    }
  }
  if (!/^[a-z0-9.\-[\]:_]+$/i.test(host)) return undefined;
  return `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${host}`;
}

/**
 * Whether `origin + path` is already what WHATWG URL serialisation gives: a lower-case origin
 * without a default port, and a path of characters URL parsing keeps as they are, with no dot
 * segment (`/.`, `%2e`) and no fragment. Per request: a character scan, no allocation.
 */
function serialised(origin: string, path: string): boolean {
  if (path.charCodeAt(0) !== 47 /* / */ || path.includes('/.') || /%2e/i.test(path)) return false;
  if (origin.endsWith(':80') || origin.endsWith(':443')) return false;
  for (let i = 0; i < origin.length; i++) {
    const c = origin.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return false; // upper case
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    // Printable ASCII except space " # ' < > \ ^ ` { | }
    if (c <= 0x20 || c >= 0x7f) return false;
    if (c === 0x22 || c === 0x23 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x5c) return false;
    if (c === 0x5e || c === 0x60 || c === 0x7b || c === 0x7c || c === 0x7d) return false;
  }
  return true;
}

/** The request URL, serialised as `Request` would (Express: including the mount prefix); `undefined` when no URL parses. */
export function requestUrl(req: NodeRequest, origin: string): string | undefined {
  const path = req.originalUrl ?? req.url ?? '/';
  if (serialised(origin, path)) return origin + path;
  const url = path.charCodeAt(0) === 47 /* / */ ? origin + path : `${origin}/${path}`;
  try {
    return new URL(url).href;
  } catch {
    return URL.canParse(origin) ? new URL('/', origin).href : undefined;
  }
}

/** Whether a node request carries a body: never GET/HEAD, else only with Transfer-Encoding or a non-zero Content-Length (RFC 9112 §6.3). */
function carriesBody(req: IncomingMessage): boolean {
  const method = req.method;
  if (method === 'GET' || method === 'HEAD') return false;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** `Headers` from node's raw list, dropping HTTP/2 pseudo-headers and values the WHATWG class refuses. */
export function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.charCodeAt(0) === 58 /* : */) continue;
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // a header the WHATWG Headers class refuses; drop it
    }
  }
  return headers;
}

const signalProperty: PropertyDescriptor = {
  get(this: object) {
    return stateOf(this).signal();
  },
  configurable: true,
};

/** Builds the real web `Request` of `s` (headers: `given` when a lazy request's were changed). */
function buildRequest(s: EdgeRequestState, given?: Headers): Request {
  const req = s.req;
  const raw = req.rawHeaders;
  let headers: Headers | [string, string][] | undefined = given;
  if (!headers) {
    const pairs: [string, string][] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.charCodeAt(0) !== 58 /* : */) pairs.push([raw[i]!, raw[i + 1]!]);
    }
    headers = pairs;
  }
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers };
  if (s.body) init.body = s.body as Uint8Array<ArrayBuffer>;
  else if (carriesBody(req)) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  let request: Request;
  try {
    request = new Request(s.url, init);
  } catch {
    init.headers = given ?? headersOf(raw);
    request = new Request(s.url, init);
  }
  (request as unknown as WithState)[kState] = s;
  Object.defineProperty(request, 'signal', signalProperty);
  return request;
}

/** A real `Request` for `s`, whose `signal` is the edge's client-disconnect signal. */
export function realEdgeRequest(s: EdgeRequestState): Request {
  return buildRequest(s);
}

/** Builds (once) the real `Request` behind a lazy request. */
function materialize(lazy: Request): Request {
  const s = stateOf(lazy);
  // Headers changed through the lazy object (made real by then) go with it.
  s.real ??= buildRequest(
    s,
    s.headers && (s.headers as unknown as { [kState]?: LazyHeadersState })[kState]?.real,
  );
  return s.real;
}

/** Forwards every other member of `proto` (a WHATWG prototype) to the object `real(this)` returns. */
function delegate(lazy: object, proto: object, real: (self: object) => object): void {
  for (const key of [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)]) {
    if (key === 'constructor' || Object.prototype.hasOwnProperty.call(lazy, key)) continue;
    const d = Object.getOwnPropertyDescriptor(proto, key)!;
    if (typeof d.value === 'function') {
      Object.defineProperty(lazy, key, {
        value(this: object, ...args: unknown[]) {
          const target = real(this) as Record<PropertyKey, (...a: unknown[]) => unknown>;
          return target[key]!(...args);
        },
      });
    } else if (d.get) {
      Object.defineProperty(lazy, key, {
        get(this: object) {
          return (real(this) as Record<PropertyKey, unknown>)[key];
        },
      });
    }
  }
}

/** Lazy `Headers`: `get`/`has` read node's raw list (duplicates joined with ", "); anything else makes them real first. */
interface LazyHeadersState {
  raw: string[];
  /** Node's `headersDistinct`: lower-case names, every value kept (computed once by node). */
  distinct: Record<string, string[] | undefined>;
  real?: Headers;
}
const realHeaders = (self: object): Headers => {
  const s = (self as { [kState]: LazyHeadersState })[kState];
  return (s.real ??= headersOf(s.raw));
};
const lazyHeadersPrototype: object = Object.create(Headers.prototype, {
  get: {
    value(this: object, name: string): string | null {
      const s = (this as { [kState]: LazyHeadersState })[kState];
      if (s.real) return s.real.get(name);
      const values = s.distinct[String(name).toLowerCase()];
      if (values === undefined) return null;
      return values.length === 1 ? values[0]! : values.join(', ');
    },
  },
  has: {
    value(this: Headers, name: string): boolean {
      return this.get(name) !== null;
    },
  },
});
delegate(lazyHeadersPrototype, Headers.prototype, realHeaders);

/** The prototype of lazy requests: `instanceof Request`, cheap `method`/`url`/`headers`/`signal`, the rest from the real one. */
const lazyPrototype: object = Object.create(Request.prototype, {
  method: {
    get(this: Request) {
      return stateOf(this).req.method ?? 'GET';
    },
  },
  url: {
    get(this: Request) {
      return stateOf(this).url;
    },
  },
  headers: {
    get(this: Request) {
      const s = stateOf(this);
      if (!s.headers) {
        if (s.real) s.headers = s.real.headers;
        else {
          const headers = Object.create(lazyHeadersPrototype) as Headers;
          const req = s.req;
          const state: LazyHeadersState = { raw: req.rawHeaders, distinct: req.headersDistinct };
          (headers as unknown as { [kState]: LazyHeadersState })[kState] = state;
          s.headers = headers;
        }
      }
      return s.headers;
    },
  },
  signal: signalProperty,
  [MATERIALIZE_REQUEST]: {
    value(this: Request) {
      return materialize(this);
    },
  },
});
delegate(lazyPrototype, Request.prototype, (self) => materialize(self as Request));

/**
 * A lazy request for `s`: `instanceof Request`, answering `method`, `url`, `headers.get/has` and
 * `signal` from node's request; anything else (`body`, `text()`, `clone()`…) builds the real one.
 */
export function lazyEdgeRequest(s: EdgeRequestState): Request {
  const lazy = Object.create(lazyPrototype) as Request & WithState;
  lazy[kState] = s;
  return lazy;
}
