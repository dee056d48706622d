import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
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

/** Converts a node request to a web `Request`, streaming the body. */
export function toWebRequest(req: MaybeExpressRequest, origin: string, signal?: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, req.rawHeaders[i + 1]!);
    } catch {
      // a header value the WHATWG Headers class refuses; drop it
    }
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (signal) init.signal = signal;
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  const path = req.originalUrl ?? req.url ?? '/';
  let url: URL;
  try {
    url = new URL(path.startsWith('/') ? path : `/${path}`, origin);
  } catch {
    url = new URL('/', origin);
  }
  return new Request(url, init);
}

/** Writes a web `Response` to a node response, streaming the body with backpressure. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
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

/**
 * Adapts a Fetch-API handler to a node `(req, res)` listener for
 * `http.createServer`, Express (`app.use(prefix, listener)`: the mount prefix
 * is kept) and anything else speaking node's request/response. Passes the
 * peer address as `info.remoteAddress`. Mount it before body parsers: it reads
 * the raw request stream.
 */
export function toNodeListener(
  handler: FetchHandler,
  opts: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const origin =
      opts.origin ??
      `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${sanitizeHost(req.headers.host)}`;
    Promise.resolve()
      .then(() =>
        handler(toWebRequest(req as MaybeExpressRequest, origin, controller.signal), {
          ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
        }),
      )
      .then((response) => writeWebResponse(res, response))
      .catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end('{"error":"server_error","error_description":"internal error"}');
        } else res.destroy();
      });
  };
}

function sanitizeHost(host: string | undefined): string {
  if (host && /^[a-z0-9.\-[\]:]+$/i.test(host)) return host;
  return 'localhost';
}
