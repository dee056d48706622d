import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { knownBody } from '../http/known-body.js';
import { acceptsLightRequests, materializeRequest } from '../http/light-request.js';
import type { RequestInfo } from '../http/rate-limit.js';

/** A Fetch-API handler such as `server.fetch`. */
export type FetchHandler = (request: Request, info: RequestInfo) => Promise<Response> | Response;

export interface NodeListenerOptions {
  /**
   * Origin used to build request URLs (default: `http(s)://<Host header>`).
   * Only the path is used for routing.
   */
  origin?: string;
}

/** Express keeps the mount prefix in `originalUrl` and strips it from `url`. */
type MaybeExpressRequest = IncomingMessage & { originalUrl?: string };

/**
 * Whether a node request carries a body: never for GET and HEAD, otherwise
 * only with `Transfer-Encoding` or a non-zero `Content-Length` (RFC 9112
 * §6.3). Bodyless requests get no `ReadableStream` at all.
 */
function carriesBody(req: IncomingMessage): boolean {
  const method = req.method;
  if (method === 'GET' || method === 'HEAD') return false;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** The request URL: `origin` + the path as received (Express: including the mount prefix). */
function requestUrl(req: MaybeExpressRequest, origin: string): string {
  const path = req.originalUrl ?? req.url ?? '/';
  return path.charCodeAt(0) === 47 /* / */ ? origin + path : `${origin}/${path}`;
}

/**
 * Builds the web `Request`. Fast path: header pairs straight from
 * `rawHeaders` and the URL as a string, parsed once by `Request` itself.
 * When that throws (a header value or URL the WHATWG classes refuse), the
 * careful path drops the bad headers one by one and falls back to `/`.
 */
function buildRequest(
  req: MaybeExpressRequest,
  origin: string,
  signal: AbortSignal | undefined,
  given?: Headers,
): Request {
  const raw = req.rawHeaders;
  const pairs: [string, string][] = [];
  if (!given) {
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-headers
      pairs.push([raw[i]!, raw[i + 1]!]);
    }
  }
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers: given ?? pairs };
  if (signal) init.signal = signal;
  if (carriesBody(req)) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  const url = requestUrl(req, origin);
  try {
    return new Request(url, init);
  } catch {
    init.headers = given ?? headersOf(raw);
    try {
      return new Request(url, init);
    } catch {
      return new Request(new URL('/', origin), init);
    }
  }
}

/** `Headers` from node's raw header list, dropping values the WHATWG class refuses and HTTP/2 pseudo-headers. */
function headersOf(raw: string[]): Headers {
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

/** Converts a node request to a web `Request`, streaming the body (none for GET, HEAD and bodyless requests). */
export function toWebRequest(req: MaybeExpressRequest, origin: string, signal?: AbortSignal): Request {
  return buildRequest(req, origin, signal);
}

function writeHead(res: ServerResponse, response: Response, contentLength?: number): void {
  const headers: Record<string, string | string[]> = {};
  let cookies = false;
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') cookies = true;
    else headers[key] = value;
  });
  if (cookies) headers['set-cookie'] = response.headers.getSetCookie();
  if (contentLength !== undefined && headers['content-length'] === undefined)
    headers['content-length'] = String(contentLength);
  res.writeHead(response.status, response.statusText || undefined, headers);
}

/**
 * Writes a web `Response` to a node response: a body known up front (see
 * `bodyResponse`) in one `res.end()`, any other body streamed with
 * backpressure.
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const known = knownBody(response);
  if (known !== undefined) {
    writeHead(res, response, typeof known === 'string' ? Buffer.byteLength(known) : known.byteLength);
    res.end(known);
    return;
  }
  writeHead(res, response);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const onClose = () => void reader.cancel().catch(() => {});
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const finish = () => {
            res.off('drain', finish);
            res.off('close', finish);
            resolve();
          };
          res.once('drain', finish);
          res.once('close', finish);
        });
        if (res.destroyed) break;
      }
    }
  } finally {
    res.off('close', onClose);
    res.end();
  }
}

const INTERNAL_ERROR = '{"error":"server_error","error_description":"internal error"}';

function fail(res: ServerResponse): void {
  if (!res.headersSent) {
    res.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(INTERNAL_ERROR);
  } else res.destroy();
}

/** Per-request state of a request made by {@link toNodeListener}. */
interface NodeRequestState {
  req: MaybeExpressRequest;
  res: ServerResponse;
  origin: string;
  url: string;
  /** Light requests: their `Headers`, made on first use. */
  headers?: Headers;
  /** Light requests: the real `Request`, built on first use. */
  real?: Request;
  controller?: AbortController;
}
const kState = Symbol('node request state');
type WithState = { [kState]: NodeRequestState };
const stateOf = (object: object): NodeRequestState => (object as WithState)[kState];

/**
 * `request.signal`: created on first use (a signal given to the `Request`
 * constructor costs more than the rest of the request) and aborted when the
 * client goes away before the response finished.
 */
function lazySignal(this: Request): AbortSignal {
  const s = stateOf(this);
  if (!s.controller) {
    const controller = (s.controller = new AbortController());
    const res = s.res;
    if (!res.writableFinished) {
      if (res.destroyed) controller.abort();
      else
        res.once('close', () => {
          if (!res.writableFinished) controller.abort();
        });
    }
  }
  return s.controller.signal;
}

const signalProperty: PropertyDescriptor = { get: lazySignal, configurable: true };

/** Builds (once) the real `Request` behind a light request. */
function materialize(light: Request): Request {
  const s = stateOf(light);
  if (!s.real) {
    // Headers changed through the light object (made real by then) go with it.
    const changed = s.headers && (s.headers as { [kState]?: LightHeadersState })[kState]?.real;
    const real = buildRequest(s.req, s.origin, undefined, changed);
    (real as unknown as WithState)[kState] = s;
    Object.defineProperty(real, 'signal', signalProperty);
    s.real = real;
  }
  return s.real;
}

/** Forwards every other member of `proto` (a WHATWG prototype) to the object `real(this)` returns. */
function delegate(light: object, proto: object, real: (self: object) => object): void {
  for (const key of [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)]) {
    if (key === 'constructor' || Object.prototype.hasOwnProperty.call(light, key)) continue;
    const d = Object.getOwnPropertyDescriptor(proto, key)!;
    if (typeof d.value === 'function') {
      Object.defineProperty(light, key, {
        value(this: object, ...args: unknown[]) {
          const target = real(this) as Record<PropertyKey, (...a: unknown[]) => unknown>;
          return target[key]!(...args);
        },
      });
    } else if (d.get) {
      Object.defineProperty(light, key, {
        get(this: object) {
          return (real(this) as Record<PropertyKey, unknown>)[key];
        },
      });
    }
  }
}

/**
 * Light `Headers`: `get` and `has` read node's raw header list (joined with
 * ", " like WHATWG `Headers`); anything else (iteration, `set`…) turns them
 * into a real `Headers` first, which they use from then on.
 */
interface LightHeadersState {
  raw: string[];
  real?: Headers;
}
const realHeaders = (self: object): Headers => {
  const s = (self as { [kState]: LightHeadersState })[kState];
  return (s.real ??= headersOf(s.raw));
};
const lightHeadersPrototype: object = Object.create(Headers.prototype, {
  get: {
    value(this: object, name: string): string | null {
      const s = (this as { [kState]: LightHeadersState })[kState];
      if (s.real) return s.real.get(name);
      const wanted = String(name).toLowerCase();
      const raw = s.raw;
      let out: string | null = null;
      for (let i = 0; i < raw.length; i += 2) {
        const key = raw[i]!;
        if (key.length === wanted.length && key.toLowerCase() === wanted)
          out = out === null ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
      }
      return out;
    },
  },
  has: {
    value(this: Headers, name: string): boolean {
      return this.get(name) !== null;
    },
  },
});
delegate(lightHeadersPrototype, Headers.prototype, realHeaders);

/** The prototype of light requests: `instanceof Request`, cheap `method`/`url`/`headers`/`signal`, the rest from the real one. */
const lightPrototype: object = Object.create(Request.prototype, {
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
          const headers = Object.create(lightHeadersPrototype) as Headers;
          (headers as unknown as { [kState]: LightHeadersState })[kState] = { raw: s.req.rawHeaders };
          s.headers = headers;
        }
      }
      return s.headers;
    },
  },
  signal: { get: lazySignal },
  [materializeRequest]: {
    value(this: Request) {
      return materialize(this);
    },
  },
});
delegate(lightPrototype, Request.prototype, (self) => materialize(self as Request));

function lightRequest(req: MaybeExpressRequest, res: ServerResponse, origin: string): Request | undefined {
  let url: string;
  try {
    url = new URL(requestUrl(req, origin)).href; // serialised as Request would
  } catch {
    return undefined; // the careful path decides
  }
  const light = Object.create(lightPrototype) as Request & WithState;
  light[kState] = { req, res, origin, url };
  return light;
}

/**
 * Adapts a Fetch-API handler to a node `(req, res)` listener for
 * `http.createServer`, Express (`app.use(prefix, listener)`: the mount prefix
 * is kept) and anything else speaking node's request/response. Passes the
 * peer address as `info.remoteAddress`. Mount it before body parsers: it reads
 * the raw request stream.
 *
 * `request.signal` aborts when the client disconnects before the response is
 * finished. Responses built with a known body (everything this package
 * answers) are written with one `res.end()`; streams are piped with
 * backpressure. The server's own `fetch` gets light requests, which build
 * their WHATWG `Request` only when the body is read.
 */
export function toNodeListener(
  handler: FetchHandler,
  opts: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const fixedOrigin = opts.origin;
  const light = acceptsLightRequests(handler);
  return (req, res) => {
    const origin = fixedOrigin ?? originOf(req);
    let request: Request | undefined;
    try {
      if (light) request = lightRequest(req, res, origin);
      if (!request) {
        request = buildRequest(req, origin, undefined);
        (request as unknown as WithState)[kState] = { req, res, origin, url: '' };
        Object.defineProperty(request, 'signal', signalProperty);
      }
    } catch {
      fail(res);
      return;
    }
    const remoteAddress = req.socket.remoteAddress;
    let result: Promise<Response> | Response;
    try {
      result = handler(request, remoteAddress ? { remoteAddress } : {});
    } catch {
      fail(res);
      return;
    }
    if (typeof (result as Promise<Response>).then !== 'function') {
      writeWebResponse(res, result as Response).catch(() => fail(res));
      return;
    }
    (result as Promise<Response>).then(
      (response) => writeWebResponse(res, response).catch(() => fail(res)),
      () => fail(res),
    );
  };
}

/** `http(s)://<Host>` of a node request, with the `Host` header read from `rawHeaders` (node's `headers` object is built lazily). */
function originOf(req: IncomingMessage): string {
  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      host = raw[i + 1];
      break;
    }
  }
  return `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${sanitizeHost(host)}`;
}

function sanitizeHost(host: string | undefined): string {
  if (host && /^[a-z0-9.\-[\]:]+$/i.test(host)) return host;
  return 'localhost';
}
