import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running test server. */
export interface Listening {
  /** Base URL, e.g. `http://127.0.0.1:40123`. No trailing slash. */
  url: string;
  port: number;
  server: http.Server;
  /** Closes the server and every open connection. Safe to call twice. */
  close(): Promise<void>;
}

/** A Fetch-API handler, as every package in this repo exports. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Converts a node request into a web `Request`. Kept tiny on purpose: the
 * testkit must not depend on any package under test.
 */
function toRequest(req: http.IncomingMessage, base: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else if (v !== undefined) headers.set(k, v);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = req as unknown as ReadableStream;
    init.duplex = 'half';
  }
  return new Request(new URL(req.url ?? '/', base), init);
}

async function writeResponse(res: http.ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

/** Starts a Fetch-API handler on `127.0.0.1` with an ephemeral port. */
export async function listen(
  handler: FetchHandler,
  opts: { host?: string; port?: number } = {},
): Promise<Listening> {
  let base = '';
  const listening = await listenNode((req, res) => {
    Promise.resolve()
      .then(() => handler(toRequest(req, base)))
      .then((response) => writeResponse(res, response))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
  }, opts);
  base = listening.url;
  return listening;
}

/** Starts a node `RequestListener` on `127.0.0.1` with an ephemeral port. */
export async function listenNode(
  listener: http.RequestListener,
  opts: { host?: string; port?: number } = {},
): Promise<Listening> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
