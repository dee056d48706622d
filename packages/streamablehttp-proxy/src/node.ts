import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NODE_PATHS, createStdioBridge, type StdioBridge } from './bridge.js';
import { BridgeHttpError, JsonRpcCode } from './errors.js';
import { errorReply, tooLarge } from './exchange.js';
import { toResponse } from './fetch-exchange.js';
import { isLoopbackHost } from './http-handler.js';
import { readNodeBody } from './node-exchange.js';
import { DEFAULTS, type StdioBridgeOptions } from './options.js';
import { HEADER_FLUSH_MS } from './sse.js';

/** A Fetch-API handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Adapts a Fetch-API handler to node:http. A bridge's own `fetch` (or the
 * bridge itself) is served on its direct path ({@link StdioBridge.handleNode}:
 * no web objects per request). Any other handler: request bodies are read
 * into memory up to `maxBodyBytes` (413 beyond); SSE bodies are streamed with
 * headers flushed at once; a client that disconnects cancels the body.
 */
export function toNodeListener(
  handler: FetchHandler | StdioBridge,
  opts: { maxBodyBytes?: number } = {},
): http.RequestListener {
  const direct =
    typeof handler === 'function' ? NODE_PATHS.get(handler as StdioBridge['fetch']) : handler.handleNode;
  if (direct) {
    return (req, res) => {
      void direct(req, res, undefined);
    };
  }
  const fetchHandler = handler as FetchHandler;
  const max = opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  return (req, res) => {
    void serve(fetchHandler, req, res, max);
  };
}

async function serve(
  handler: FetchHandler,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  max: number,
) {
  let response: Response;
  try {
    const headers = new Headers();
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    const method = req.method ?? 'GET';
    const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
    let body: Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const read = await readNodeBody(req, max);
      if (read === null) {
        response = toResponse(errorReply(tooLarge(max)));
        return await write(res, response, true);
      }
      body = read;
    }
    response = await handler(
      new Request(url, { method, headers, body: body as Uint8Array<ArrayBuffer> | undefined }),
    );
  } catch (err) {
    response = toResponse(
      errorReply(
        new BridgeHttpError(
          400,
          JsonRpcCode.ServerError,
          `Bad Request: ${err instanceof Error ? err.message : 'unreadable'}`,
        ),
      ),
    );
  }
  await write(res, response, false);
}

async function write(res: http.ServerResponse, response: Response, close: boolean): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (close) headers.connection = 'close';
  const body = response.body;
  if (!body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const isStream = headers['content-type'] === 'text/event-stream';
  if (!isStream) {
    // A finite body: read it whole and send it with a Content-Length.
    const buf = Buffer.from(await response.arrayBuffer());
    headers['content-length'] = String(buf.length);
    res.writeHead(response.status, headers).end(buf);
    return;
  }
  res.writeHead(response.status, headers);
  // Headers go out with the first event when one is ready at once (one packet
  // instead of two); otherwise shortly after, so the client sees the stream open.
  let flushTimer: NodeJS.Timeout | undefined = setTimeout(() => res.flushHeaders(), HEADER_FLUSH_MS);
  const reader = body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  const uncork = () => res.uncork();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
      }
      if (done) break;
      // Events queued in the same tick (an answer and the stream's end) leave in one write.
      res.cork();
      process.nextTick(uncork);
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
    }
  } catch {
    // client went away
  }
  clearTimeout(flushTimer);
  res.end();
}

/** A bridge listening on node:http. */
export interface ServedBridge {
  bridge: StdioBridge;
  server: http.Server;
  /** e.g. `http://127.0.0.1:3000` (no path). */
  url: string;
  /** Stops listening, then closes the bridge (every child exits). */
  close(): Promise<void>;
}

/**
 * Creates a bridge and serves it on `host:port` (default 127.0.0.1:3000).
 * Bound to a loopback address, DNS-rebinding protection (`allowedHosts:
 * 'loopback'`) is on unless `allowedHosts` says otherwise.
 */
export async function serveNode(
  options: StdioBridgeOptions,
  listen: { host?: string; port?: number } = {},
): Promise<ServedBridge> {
  const host = listen.host ?? '127.0.0.1';
  const allowedHosts =
    options.allowedHosts ?? (isLoopbackHost(host.replace(/^\[|\]$/g, '')) ? 'loopback' : undefined);
  const bridge = createStdioBridge({ ...options, allowedHosts });
  const server = http.createServer((req, res) => void bridge.handleNode(req, res));
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port ?? 3000, host, () => resolve());
    });
  } catch (err) {
    await bridge.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    bridge,
    server,
    url,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        await bridge.close();
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
